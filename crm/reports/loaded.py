"""What a bulk load adds to the dashboard's rollups, counted while it reads.

A bulk DM import on SQLite turns the rollups' INSERT triggers off for its transaction
(crm.reports.rollup_triggers.suspend_insert_marking). Instead of marking every hour and day
it wrote dirty and recounting them from the tables afterwards, it adds the counts its
readers worked out for each new conversation to the hour and day rows, in the same
transaction:

- `thread_counts` runs in the reader, over a new conversation's messages in the order they
  are written: messages per UTC hour × direction × author, with how many were replied to,
  and first responses per UTC day × responder × bucket, with how many were answered;
- `LoadedCounts` gathers them per contact owner in the writer and `write` adds them to
  dm_hour_counts and response_day_counts with additive upserts, and drops the local days
  built on the hours it changed (each zone's days are built again on first use).

Additive counts stay exact because the rows they add to were exact: an hour or day that is
dirty for another reason (a DM logged meanwhile, replied_at set by a later rebuild through
the UPDATE trigger) is recounted from the table as usual, whatever it holds.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.extensions import db
from crm.reports.models import DMDayBuilt, DMHourCount, ResponseDayCount
from crm.reports.response_rollup import bucket_of
from crm.reports.rollup import ALL_PLATFORMS, EVERYONE, NO_OWNER, _drop_days, local_days_of_hour


def thread_counts(messages, replied, bursts) -> tuple[dict, dict]:
    """A new conversation's rollup counts.

    `messages`: (direction, sent_at, author_id, …) as given to `replay_new`; `replied`: each
    message's replied_at (None when not worked out); `bursts`: its ResponseTime rows as
    dicts. Returns ({(hour, direction, author): [messages, replied]},
    {(day, responder, bucket): [bursts, answered]})."""
    raw: dict = defaultdict(int)
    for m, at in zip(messages, replied):
        sent = m[1]
        raw[(sent.year, sent.month, sent.day, sent.hour, m[0], m[2] or 0, at is not None)] += 1
    hours: dict = {}
    for (y, mo, d, h, direction, author, was_replied), n in raw.items():
        entry = hours.setdefault((f"{y:04d}-{mo:02d}-{d:02d} {h:02d}", direction, author), [0, 0])
        entry[0] += n
        if was_replied:
            entry[1] += n
    days: dict = {}
    for b in bursts:
        key = (b["burst_started_at"].strftime("%Y-%m-%d"), b["responder_id"] or 0,
               bucket_of(b["response_seconds"]))
        entry = days.setdefault(key, [0, 0])
        entry[0] += 1
        if b["answered_at"] is not None:
            entry[1] += 1
    return hours, days


class LoadedCounts:
    """The counts of a bulk load's new conversations, per contact owner and platform."""

    def __init__(self, platform: str):
        self.platform = platform
        self.hours: dict = defaultdict(lambda: [0, 0])   # (hour, owner, direction, author)
        self.days: dict = defaultdict(lambda: [0, 0])    # (day, owner, responder, bucket)

    def add(self, owner_id: int | None, hours: dict, days: dict) -> None:
        owner = NO_OWNER if owner_id is None else owner_id
        for (hour, direction, author), (n, r) in hours.items():
            entry = self.hours[(hour, owner, direction, author)]
            entry[0] += n
            entry[1] += r
        for (day, responder, bucket), (n, a) in days.items():
            entry = self.days[(day, owner, responder, bucket)]
            entry[0] += n
            entry[1] += a

    def write(self) -> None:
        """Add the counts to the rollups, inside the load's transaction (SQLite)."""
        conn = db.session.connection()
        hours = DMHourCount.__table__
        rows = [{"hour": h, "owner_id": o, "platform": self.platform, "direction": d,
                 "author_id": a, "template_id": 0, "messages": n, "replied": r}
                for (h, o, d, a), (n, r) in self.hours.items()]
        for i in range(0, len(rows), 5000):
            upsert = sqlite_insert(hours)
            conn.execute(upsert.on_conflict_do_update(
                index_elements=[c.name for c in hours.primary_key.columns],
                set_={"messages": hours.c.messages + upsert.excluded.messages,
                      "replied": hours.c.replied + upsert.excluded.replied}), rows[i:i + 5000])
        sliced: dict = defaultdict(lambda: [0, 0])
        for (day, owner, responder, bucket), (n, a) in self.days.items():
            for o in (owner, EVERYONE):
                for p in (self.platform, ALL_PLATFORMS):
                    entry = sliced[(day, o, p, responder, bucket)]
                    entry[0] += n
                    entry[1] += a
        days = ResponseDayCount.__table__
        rows = [{"day": d, "owner_id": o, "platform": p, "responder_id": r, "bucket": b,
                 "bursts": n, "answered": a} for (d, o, p, r, b), (n, a) in sliced.items()]
        for i in range(0, len(rows), 5000):
            upsert = sqlite_insert(days)
            conn.execute(upsert.on_conflict_do_update(
                index_elements=[c.name for c in days.primary_key.columns],
                set_={"bursts": days.c.bursts + upsert.excluded.bursts,
                      "answered": days.c.answered + upsert.excluded.answered}), rows[i:i + 5000])
        self._drop_built_days({h for h, _, _, _ in self.hours})

    @staticmethod
    def _drop_built_days(hours: set) -> None:
        """Local days built on the changed hours go; they are built again on first use."""
        for tz in db.session.scalars(select(DMDayBuilt.tz).distinct()).all():
            days: set = set()
            for key in hours:
                days |= local_days_of_hour(key, tz)
            _drop_days(tz, sorted(days))
