"""The dashboard's response-time figures, from the first-response counts per UTC day
(crm.reports.models.ResponseDayCount, kept by crm.contacts.dm_counts).

A dashboard range starts and ends at local midnights: its whole UTC days come from the day
counts, the hours at its two edges from the response times themselves. The buckets tell the
within-target count (a target of whole hours up to a week never splits one; a longer one
counts its bucket's values) and where the median and 90th percentile ranks lie; the exact
values are then read from the response times in those buckets only, and the median and 90th
percentile computed as PostgreSQL's percentile_cont gives them: sorted values v[0..n-1],
h = p·(n-1), the result is v[⌊h⌋] + (h-⌊h⌋)·(v[⌊h⌋+1] - v[⌊h⌋]).
"""
import math
from collections import defaultdict
from functools import cache
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal_column, or_, select, union_all

from crm.contacts.dm_counts import ALL_PLATFORMS, EVERYONE, UNANSWERED, bounds, bucket_sql, day_key
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


# Reading -----------------------------------------------------------------------------------
BUCKET = literal_column(bucket_sql("response_times.response_seconds"))   # a response's bucket
VALUE_INDEX = "ix_response_times_seconds"
BURST_INDEX = "ix_response_times_burst"


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


def _read(scope, columns, common: list, parts: list, index: str) -> list:
    """`columns` of the response times in the scope matching `common` and any of `parts`
    (lists of clauses), as plain tuples, each part a range of `index`. SQLite would rather
    take the range's burst index, a responder's index or the scope's conversations one by
    one (a rep's 10,000 took 25 ms where the parts' ranges take 16). Every conversation:
    each part on its own. Some: one statement whose parts SQLite reads as one index's ranges
    (MULTI-INDEX OR), so that the conversations in scope are listed once (it would list them
    again for each part of a UNION)."""
    in_scope = scope.in_conversations(ResponseTime.conversation_id)
    if in_scope:
        stmt = indexed_by(select(*columns).where(*common, *in_scope,
                                                 or_(*[and_(*p) for p in parts])),
                          ResponseTime, index)
    else:
        stmt = [indexed_by(select(*columns).where(*common, *p), ResponseTime, index)
                for p in parts]
        stmt = stmt[0] if len(stmt) == 1 else union_all(*stmt)
    result = db.session.connection().execute(stmt)
    rows = result.cursor.fetchall()
    result.close()
    return rows


def counted_days(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC days [lo, hi) whose counts are read for the range [start, end): its whole days,
    and a partial day at either edge when more of its hours are inside the range than out.
    The hours of [lo, hi) outside the range are then taken off, the range's hours outside it
    added, each read response by response: a range of local days reads an hour or two of
    responses at each edge, never most of a day."""
    lo, hi = whole_days(start, end)
    day, half = timedelta(days=1), timedelta(hours=12)
    if start < lo and min(end, lo) - start > half:
        lo -= day
    if lo <= hi < end and end - max(start, hi) > half:
        hi += day
    return lo, hi


def response_figures(scope, target_seconds: int):
    """(bursts started in the range, answered, answered within target, {TEAM or
    responder: (median, p90)}) for the response times in the scope."""
    start, end = scope.start, scope.end
    lo, hi = counted_days(start, end)
    counts: dict = defaultdict(lambda: [0, 0])      # (responder, bucket) -> [bursts, answered]
    edges = [(start, end)]
    if lo < hi:
        for responder, bucket, n, a in db.session.execute(_day_counts(scope, lo, hi)):
            counts[(responder or None, bucket)][0] += int(n)
            counts[(responder or None, bucket)][1] += int(a)
        edges = [(start, lo), (hi, end), (lo, start), (end, hi)]
    edges = [[ResponseTime.burst_started_at >= a, ResponseTime.burst_started_at < b]
             for a, b in edges if a < b]
    if edges:   # each edge less than a day: one range of the covering burst index
        # +1 in the range, -1 in a day counted whole but outside the range
        in_range_sign = case((and_(ResponseTime.burst_started_at >= start,
                                   ResponseTime.burst_started_at < end), 1), else_=-1)
        columns = (in_range_sign, ResponseTime.responder_id, BUCKET,
                   ResponseTime.answered_at.is_not(None))
        for sign, responder, bucket, answered in _read(scope, columns, [], edges, BURST_INDEX):
            counts[(responder, bucket)][0] += sign
            counts[(responder, bucket)][1] += sign * int(answered)
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
    in_range = [ResponseTime.burst_started_at >= scope.start,
                ResponseTime.burst_started_at < scope.end]
    if split is not None:
        low, _ = bounds(split)
        within += db.session.scalar(indexed_by(select(func.count()).where(
            *scope.response_where(), value <= target_seconds,
            *([value >= low] if low is not None else [])), ResponseTime, VALUE_INDEX))
    # The buckets holding each group's wanted ranks; their values are read, nothing else
    # (and of a bucket only one responder needs, only that responder's).
    wanted: dict = {}
    needed: dict = defaultdict(set)                   # bucket -> groups
    for group, per in per_group.items():
        n = sum(per.values())
        ranks = sorted({r for p in LEVELS for r in (int(p * (n - 1)) + 1, int(p * (n - 1)) + 2)
                        if r <= n})
        below, spots = 0, {}
        for bucket in sorted(per):   # up to the bucket of the highest rank wanted
            upto = below + per[bucket]
            while ranks and ranks[0] <= upto:
                r = ranks.pop(0)
                spots[r] = (bucket, r - below)
                needed[bucket].add(group)
            if not ranks:
                break
            below = upto
        wanted[group] = (n, spots)
    parts = []
    for bucket, groups in sorted(needed.items()):
        low, high = bounds(bucket)
        part = [value >= low if low is not None else value.is_not(None)]
        if high is not None:
            part.append(value <= high)
        if TEAM not in groups:
            who = [g for g in groups if g is not None]
            part.append(or_(*([ResponseTime.responder_id.in_(who)] if who else []),
                            *([ResponseTime.responder_id.is_(None)] if None in groups else [])))
        parts.append(part)
    values: dict = defaultdict(lambda: defaultdict(list))   # bucket -> responder -> values
    if parts:   # buckets are disjoint ranges of values: one range of the value index each
        columns = (BUCKET, ResponseTime.responder_id, value)
        for bucket, responder, seconds in _read(scope, columns, in_range, parts, VALUE_INDEX):
            values[bucket][responder].append(seconds)

    @cache
    def ordered(group, bucket):
        by_responder = values[bucket]
        return sorted(by_responder.get(group, []) if group != TEAM
                      else [v for vs in by_responder.values() for v in vs])

    pct = {}
    for group, (n, spots) in wanted.items():
        at = {r: ordered(group, bucket)[i - 1] for r, (bucket, i) in spots.items()}
        pct[group] = tuple(interpolate(p, n, at) for p in LEVELS)
    return bursts, answered, within, pct
