"""Median and 90th percentile of first-response times, computed by the database.

Both give PostgreSQL's percentile_cont: sorted values v[0..n-1], h = p·(n-1), the result is
v[⌊h⌋] + (h-⌊h⌋)·(v[⌊h⌋+1] - v[⌊h⌋]). PostgreSQL runs percentile_cont itself; SQLite has no
percentile function, so one window query over the indexed rows returns only the (at most
four) neighbouring values per group that the formula needs — never all the rows.
"""
import math

from sqlalchemy import Integer, cast, func, literal, or_, select

from crm.extensions import db
from crm.reports.sqlhelp import is_sqlite

LEVELS = (0.5, 0.9)
EVERYONE = "all"


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


def response_percentiles(where: list, value_col, group_col) -> dict:
    """{EVERYONE or group value: (median, p90)} over rows matching `where`."""
    if not is_sqlite():
        return _postgres(where, value_col, group_col)
    return _sqlite(where, value_col, group_col)


def _postgres(where, value_col, group_col) -> dict:
    def cont(p):
        return func.percentile_cont(p).within_group(value_col.asc())

    out = {}
    row = db.session.execute(select(cont(0.5), cont(0.9)).where(*where)).one()
    if row[0] is not None:
        out[EVERYONE] = (float(row[0]), float(row[1]))
    for key, median, p90 in db.session.execute(
            select(group_col, cont(0.5), cont(0.9)).where(*where).group_by(group_col)):
        out[key] = (float(median), float(p90))
    return out


def _sqlite(where, value_col, group_col) -> dict:
    # The counts use the same ordering as the row numbers (over the whole partition), so
    # SQLite sorts the rows twice — once per group, once overall — rather than four times.
    every = (None, None)
    ranked = select(
        group_col.label("grp"), value_col.label("v"),
        func.row_number().over(partition_by=group_col, order_by=value_col).label("rn"),
        func.count().over(partition_by=group_col, order_by=value_col, rows=every).label("n"),
        func.row_number().over(order_by=value_col).label("arn"),
        func.count().over(order_by=value_col, rows=every).label("an"),
    ).where(*where).subquery()

    def near(rank, count):
        # the ranks ⌊p·(n-1)⌋+1 and +2 for each level
        return or_(*[rank.between(cast((count - 1) * literal(p), Integer) + 1,
                                  cast((count - 1) * literal(p), Integer) + 2) for p in LEVELS])

    rows = db.session.execute(
        select(ranked.c.grp, ranked.c.v, ranked.c.rn, ranked.c.n, ranked.c.arn, ranked.c.an)
        .where(or_(near(ranked.c.rn, ranked.c.n), near(ranked.c.arn, ranked.c.an)))).all()
    groups: dict = {}
    everyone: dict = {}
    total = 0
    for grp, v, rn, n, arn, an in rows:
        groups.setdefault(grp, [n, {}])[1][rn] = v
        everyone[arn] = v
        total = an
    out = {}
    if total:
        out[EVERYONE] = tuple(interpolate(p, total, everyone) for p in LEVELS)
    for grp, (n, values) in groups.items():
        out[grp] = tuple(interpolate(p, n, values) for p in LEVELS)
    return out
