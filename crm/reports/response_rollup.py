"""The dashboard's response-time figures, from the first-response counts per UTC day.

response_day_counts holds, per UTC day of the burst's start, owner slice (one contact owner
or everyone's), platform slice (one or all), responder and bucket of response time, how
many bursts started and how many were answered; the services that write the response times
keep it (crm.contacts.dm_counts).

A dashboard range starts and ends at local midnights: its whole UTC days come from here,
the hours at its two edges from the response times themselves. The buckets tell the
within-target count (a target of whole hours up to a week never splits one; a longer one
counts its bucket's values) and where the median
and 90th percentile ranks lie; the exact values are then read from the response times in
those buckets only, and the median and 90th percentile computed as PostgreSQL's
percentile_cont gives them: sorted values v[0..n-1], h = p·(n-1), the result is
v[⌊h⌋] + (h-⌊h⌋)·(v[⌊h⌋+1] - v[⌊h⌋]).
"""
import math
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, literal_column, or_, select, union_all

from crm.contacts import dm_counts
from crm.contacts.dm_counts import ALL_PLATFORMS, EVERYONE, UNANSWERED, bounds, day_key
from crm.conversations.models import ResponseTime
from crm.extensions import db
from crm.reports.models import ResponseDayCount
from crm.reports.sqlhelp import indexed_by


LEVELS = (0.5, 0.9)
TEAM = "all"   # the percentiles of every responder's times together, next to each one's


def interpolate(p: float, n: int, values: dict) -> float | None:
    """percentile_cont from the rank -> value pairs around h (ranks start at 1)."""
    if not n:
        return None
    h = p * (n - 1)
    lo = math.floor(h)
    low = values.get(lo + 1)
    high = values.get(lo + 2, low)
    if low is None:
        return None
    return low + (h - lo) * (high - low)


def bucket_sql(column):
    """The bucket of a response_times column, in SQL (crm.contacts.dm_counts)."""
    return literal_column(dm_counts.bucket_sql(f"{column.table.name}.{column.name}"))


# Reading -----------------------------------------------------------------------------------
VALUE_INDEX = "ix_response_times_seconds"
BURST_INDEX = "ix_response_times_burst"


def _by_value(stmt):
    """`stmt` reading response times by value. Without statistics SQLite would rather take
    the range's burst index (every response time of the range), a responder's index (all of
    their response times) or a rep's conversations one by one."""
    return indexed_by(stmt, ResponseTime, VALUE_INDEX)


def _union(parts: list):
    return parts[0] if len(parts) == 1 else union_all(*parts)


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC midnights [first, last) of the whole UTC days within [start, end)."""
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    last = end.replace(hour=0, minute=0, second=0, microsecond=0)
    return first, max(first, last)


def _day_counts(scope, first: datetime, last: datetime):
    """(responder, bucket, bursts, answered) of whole UTC days [first, last) in the scope's
    owner and platform slice."""
    return (select(ResponseDayCount.responder_id, ResponseDayCount.bucket,
                   func.sum(ResponseDayCount.bursts), func.sum(ResponseDayCount.answered))
            .where(ResponseDayCount.owner_id == (EVERYONE if scope.owner_id is None
                                                 else scope.owner_id),
                   ResponseDayCount.platform == (scope.platform or ALL_PLATFORMS),
                   ResponseDayCount.day >= day_key(first), ResponseDayCount.day < day_key(last))
            .group_by(ResponseDayCount.responder_id, ResponseDayCount.bucket))


def response_figures(scope, target_seconds: int):
    """(bursts started in the range, answered, answered within target, {TEAM or
    responder: (median, p90)}) for the response times in the scope."""
    # Every conversation: each range below is read on its own from a covering index. Some
    # (one owner's, one platform's): one statement per read, so that the conversations are
    # listed once (SQLite would list them again for each part of a UNION).
    where_raw = scope.in_conversations(ResponseTime.conversation_id)
    spread = not where_raw
    first, last = whole_days(scope.start, scope.end)
    counts: dict = defaultdict(lambda: [0, 0])      # (responder, bucket) -> [bursts, answered]
    if first < last:
        for responder, bucket, n, a in db.session.execute(_day_counts(scope, first, last)):
            entry = counts[(responder or None, bucket)]
            entry[0] += int(n)
            entry[1] += int(a)
        edges = [(scope.start, first), (last, scope.end)]
    else:
        edges = [(scope.start, scope.end)]
    edges = [(a, b) for a, b in edges if a < b]
    if edges:
        columns = (ResponseTime.responder_id, bucket_sql(ResponseTime.response_seconds),
                   ResponseTime.answered_at.is_not(None))
        ranges = [and_(ResponseTime.burst_started_at >= a, ResponseTime.burst_started_at < b)
                  for a, b in edges]
        if spread:   # each edge (less than a day) one range of the covering burst index
            stmt = _union([indexed_by(select(*columns).where(r), ResponseTime, BURST_INDEX)
                           for r in ranges])
        else:
            stmt = select(*columns).where(*where_raw, or_(*ranges))
        result = db.session.connection().execute(stmt)
        for responder, bucket, answered in result.cursor.fetchall():
            entry = counts[(responder, bucket)]
            entry[0] += 1
            entry[1] += int(answered)
        result.close()
    bursts = sum(n for n, _ in counts.values())
    answered = sum(a for _, a in counts.values())
    within, split = 0, None
    per_group: dict = defaultdict(dict)               # group -> {bucket: values}
    for (responder, bucket), (n, _) in counts.items():
        if bucket == UNANSWERED or not n:
            continue
        low, high = bounds(bucket)
        if high is not None and high <= target_seconds:
            within += n
        elif low is None or low <= target_seconds:
            split = bucket                            # the target falls inside this bucket
        for group in (responder, TEAM):
            per_group[group][bucket] = per_group[group].get(bucket, 0) + n
    value = ResponseTime.response_seconds
    range_where = scope.response_where()
    if split is not None:
        low, _ = bounds(split)
        within += db.session.scalar(_by_value(select(func.count()).where(
            *range_where, value <= target_seconds, *([value >= low] if low is not None else []))))
    # The buckets holding each group's wanted ranks; their values are read, nothing else
    # (and of a bucket only one responder needs, only that responder's).
    wanted: dict = {}
    needed: dict = defaultdict(set)                   # bucket -> groups
    for group, per in per_group.items():
        n = sum(per.values())
        ranks = {r for p in LEVELS for r in (int(p * (n - 1)) + 1, int(p * (n - 1)) + 2)
                 if r <= n}
        below, spots = 0, {}
        for bucket in sorted(per):
            for r in ranks:
                if below < r <= below + per[bucket]:
                    spots[r] = (bucket, r - below)
                    needed[bucket].add(group)
            below += per[bucket]
        wanted[group] = (n, spots)
    values: dict = defaultdict(lambda: defaultdict(list))   # bucket -> responder -> values
    if needed:
        clauses = []
        for bucket, groups in sorted(needed.items()):
            low, high = bounds(bucket)
            clause = [value >= low if low is not None else value.is_not(None)]
            if high is not None:
                clause.append(value <= high)
            if TEAM not in groups:
                who = [g for g in groups if g is not None]
                clause.append(or_(*([ResponseTime.responder_id.in_(who)] if who else []),
                                  *([ResponseTime.responder_id.is_(None)]
                                    if None in groups else [])))
            clauses.append((bucket, clause))
        if spread:
            # One range of the value index per bucket (buckets are disjoint ranges of
            # values), from the index alone, instead of every response time of the range.
            stmt = _union([_by_value(select(literal(bucket), ResponseTime.responder_id, value)
                                     .where(*range_where, *clause))
                           for bucket, clause in clauses])
        else:
            stmt = select(bucket_sql(value), ResponseTime.responder_id, value).where(
                *range_where, or_(*[and_(*clause) for _, clause in clauses]))
        result = db.session.connection().execute(stmt)
        for bucket, responder, seconds in result.cursor.fetchall():
            values[bucket][responder].append(seconds)
        result.close()
    sorted_cache: dict = {}

    def ordered(group, bucket):
        key = (group, bucket)
        if key not in sorted_cache:
            by_responder = values[bucket]
            vs = [v for vs in by_responder.values() for v in vs] if group == TEAM \
                else by_responder.get(group, [])
            sorted_cache[key] = sorted(vs)
        return sorted_cache[key]

    pct = {}
    for group, (n, spots) in wanted.items():
        at = {r: ordered(group, bucket)[i - 1] for r, (bucket, i) in spots.items()}
        pct[group] = tuple(interpolate(p, n, at) for p in LEVELS)
    return bursts, answered, within, pct
