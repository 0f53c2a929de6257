"""Time is stored as naive UTC in the database and shown in the user's zone."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_utc_naive(value: datetime) -> datetime:
    """Aware → naive UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(value: datetime | None, tz_name: str | None) -> datetime | None:
    """A stored naive-UTC datetime in the given zone."""
    return local_in(value, zone(tz_name))


def local_in(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """The same for a zone already looked up (a list converts many times)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(tz)


def from_local(value: datetime, tz_name: str | None) -> datetime:
    """A naive datetime typed by a user in their zone → naive UTC."""
    return to_utc_naive(value.replace(tzinfo=zone(tz_name)))


def humanize_duration(seconds: float | int | None) -> str:
    """'3 d 4 h', '5 h 10 min', '12 min' — short enough for a badge."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def ago(value: datetime | None) -> str:
    """How long ago a stored time was, as humanize_duration says it ('—' for none)."""
    if value is None:
        return "—"
    return humanize_duration((utcnow() - value).total_seconds())
