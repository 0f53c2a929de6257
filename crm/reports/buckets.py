"""The buckets of response time, in one place: what the first-response counts are kept by.

Buckets are (low, high] seconds: minutes up to 30 minutes, quarter hours up to a day, hours
up to a week, then the rest (TAIL); a response at 0 seconds or less is bucket 0 and a burst
not answered UNANSWERED. A target of whole hours (up to a week) never splits one. Python
(`bucket_of`, `bounds`) and SQL (`bucket_sql`) are both written from SEGMENTS.
"""
WEEK = 7 * 86400
UNANSWERED = -2
# (up to these seconds, the bucket before the segment's first, where it starts, bucket width)
SEGMENTS = ((1800, 0, 0, 60), (86400, 30, 1800, 900), (WEEK, 124, 86400, 3600))
TAIL = 124 + (WEEK - 86400) // 3600 + 1   # responses after more than a week


def bucket_of(s: int | None) -> int:
    if s is None:
        return UNANSWERED
    if s <= 0:
        return 0
    for upto, before, start, width in SEGMENTS:
        if s <= upto:
            return before + (s - start + width - 1) // width
    return TAIL


def bucket_sql(s: str) -> str:
    """`bucket_of` as an SQL expression of the integer column or value `s`."""
    steps = " ".join(f"WHEN {s} <= {upto} THEN {before} + ({s} - {start} + {width - 1}) / {width}"
                     for upto, before, start, width in SEGMENTS)
    return (f"CASE WHEN {s} IS NULL THEN {UNANSWERED} WHEN {s} <= 0 THEN 0 {steps} "
            f"ELSE {TAIL} END")


def bounds(bucket: int) -> tuple[int | None, int | None]:
    """[low, high] seconds of a bucket (None: unbounded)."""
    if bucket == 0:
        return None, 0
    for upto, before, start, width in SEGMENTS:
        if bucket <= before + (upto - start) // width:
            return start + (bucket - before - 1) * width + 1, start + (bucket - before) * width
    return WEEK + 1, None
