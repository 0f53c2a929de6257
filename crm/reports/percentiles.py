"""Median and 90th percentile of first-response times, as PostgreSQL's percentile_cont
gives them: sorted values v[0..n-1], h = p·(n-1), the result is
v[⌊h⌋] + (h-⌊h⌋)·(v[⌊h⌋+1] - v[⌊h⌋]). crm.reports.response_rollup finds the values at the
ranks needed; `interpolate` does the rest.
"""
import math

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
