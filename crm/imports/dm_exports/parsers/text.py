"""String and time helpers shared by the parsers (no parser types here)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def normalise_identity(value: str) -> str:
    """Casefold and drop the trailing slash so URLs, handles and names compare loosely."""
    value = value.strip().casefold()
    if value.startswith("@"):
        value = value[1:]
    return value.rstrip("/") if "://" in value else value


def normalise_url(url: str | None) -> str | None:
    """Profile URLs without surrounding spaces or trailing slash; None when empty."""
    if not url:
        return None
    url = url.strip().rstrip("/")
    return url or None


def fix_mojibake(s: str) -> str:
    """Undo Meta's per-byte escaping: re-encode as latin-1, decode as UTF-8, else keep s."""
    if not s or s.isascii():
        return s
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the phone's zone to UTC."""
    return naive.replace(tzinfo=zone).astimezone(timezone.utc)


def media_kind_from_name(name: str) -> str:
    """Guess the media kind from a file name or URL."""
    lowered = name.lower().split("?", 1)[0]
    ext = lowered.rsplit(".", 1)[-1] if "." in lowered.rsplit("/", 1)[-1] else ""
    if ext in ("jpg", "jpeg", "png", "heic", "heif", "bmp"):
        return "photo"
    if ext == "webp":
        return "sticker" if "stk-" in lowered or "sticker" in lowered else "photo"
    if ext == "gif":
        return "gif"
    if ext in ("mp4", "mov", "m4v", "3gp", "webm", "mkv", "avi"):
        return "video"
    if ext in ("opus", "ogg", "m4a", "mp3", "aac", "wav", "amr"):
        return "audio"
    if ext:
        return "file"
    return "media"
