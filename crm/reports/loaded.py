"""What a bulk load adds to the dashboard's rollups, counted while it reads.

A bulk DM import on SQLite turns the rollups' INSERT triggers off for its transaction
(crm.reports.rollup_triggers.suspend_insert_marking). Instead of marking every hour and day
it wrote dirty and recounting them from the tables afterwards, it adds the counts its
readers worked out for each new conversation to the hour and day rows, in the same
transaction:

- each reader keeps a `Tally` of the new conversations it reads, in the order they are
  written: messages per UTC hour × contact owner × direction × author, with how many were
  replied to, and first responses per UTC day × owner × responder × bucket, with how many
  were answered, and sends it to the writer when it is done;
- the writer merges the tallies and `write` adds them to dm_hour_counts and
  response_day_counts with additive upserts, and drops the local days built on the hours it
  changed (each zone's days are built again on first use).

Additive counts stay exact because the rows they add to were exact: an hour that is dirty
for another reason (a DM logged meanwhile, replied_at set by a later rebuild through the
UPDATE trigger) is recounted from the table as usual, whatever it holds; a response time
changed later logs its change like any other (crm.reports.response_triggers).
"""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from crm.extensions import db
from crm.reports import response_rollup
from crm.reports.buckets import bucket_of
from crm.reports.models import DMDayBuilt, DMHourCount, ResponseDayCount
from crm.reports.rollup import NO_OWNER, _drop_days, add_counts, hour_of, local_days_of_hour


class Tally:
    """Rollup counts of new conversations: kept by each reader while it works out the
    conversations' reply state, merged and written by the writer. Dicts of counts, so a forked
    reader can send its tally through a pipe."""

    def __init__(self):
        self.hours = Counter()  # (hour, owner, direction, author, replied?) -> messages
        self.days: dict = {}    # (day, owner, responder, bucket, answered?) -> bursts

    def count(self, owner_id, rows, bursts) -> None:
        """One new conversation: `rows` its messages as written (direction at 1, sent_at at
        2, author at 5, replied_at at 11), `bursts` its ResponseTime rows as dicts."""
        owner = NO_OWNER if owner_id is None else owner_id
        self.hours.update([(hour_of(r[2]), owner, r[1], r[5], r[11] is not None) for r in rows])
        days = self.days
        for b in bursts:
            key = (b["burst_started_at"].date(), owner, b["responder_id"] or 0,
                   bucket_of(b["response_seconds"]), b["answered_at"] is not None)
            days[key] = days.get(key, 0) + 1

    def merge(self, other: "Tally") -> None:
        for mine, theirs in ((self.hours, other.hours), (self.days, other.days)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n

    def write(self, platform: str) -> None:
        """Add the counts to the rollups, inside the load's transaction (SQLite), and drop
        the local days built on the hours they changed."""
        hours: dict = defaultdict(lambda: [0, 0])
        for (hour, owner, direction, author, was_replied), n in self.hours.items():
            entry = hours[(hour, owner, direction, author or 0)]
            entry[0] += n
            if was_replied:
                entry[1] += n
        add_counts(DMHourCount.__table__, ("messages", "replied"),
             [{"hour": h, "owner_id": o, "platform": platform, "direction": d,
               "author_id": a, "template_id": 0, "messages": n, "replied": r}
              for (h, o, d, a), (n, r) in hours.items()])
        add_counts(ResponseDayCount.__table__, ("bursts", "answered"), response_rollup.day_rows(
            (day.isoformat(), owner, platform, responder, bucket, n, n if answered else 0)
            for (day, owner, responder, bucket, answered), n in self.days.items()))
        _drop_built_days({h for h, _, _, _ in hours})


def _drop_built_days(hours: set) -> None:
    """Local days built on the changed hours go; they are built again on first use."""
    for tz in db.session.scalars(select(DMDayBuilt.tz).distinct()).all():
        days: set = set()
        for key in hours:
            days |= local_days_of_hour(key, tz)
        _drop_days(tz, sorted(days))
