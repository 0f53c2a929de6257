"""Normalising social handles, so one creator is never entered twice."""
import re
from urllib.parse import urlsplit

# Hosts whose first path segment (after an optional "@") is the handle.
_HOSTS = {
    "instagram": ("instagram.com", "instagr.am"),
    "x": ("x.com", "twitter.com"),
    "tiktok": ("tiktok.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "linkedin": ("linkedin.com",),
    "facebook": ("facebook.com", "fb.com", "m.facebook.com"),
    "snapchat": ("snapchat.com",),
    "whatsapp": ("wa.me", "whatsapp.com"),
}
_SKIP_SEGMENTS = {"in", "company", "c", "user", "channel", "add", "u", "profile.php"}
_VALID = {
    "instagram": re.compile(r"^[a-z0-9._]{1,30}$"),
    "x": re.compile(r"^[a-z0-9_]{1,15}$"),
    "tiktok": re.compile(r"^[a-z0-9._]{2,24}$"),
    "snapchat": re.compile(r"^[a-z0-9._-]{3,15}$"),
}


# re's \s is str.isspace(): any Unicode white space.
_SPACE = re.compile(r"\s")


class HandleError(ValueError):
    pass


def platform_of_url(value: str) -> str | None:
    """The platform a pasted profile URL belongs to, if recognisable."""
    host = urlsplit(_with_scheme(value)).hostname or ""
    host = host.removeprefix("www.").removeprefix("m.")
    for platform, hosts in _HOSTS.items():
        if host in hosts or any(host.endswith("." + h) for h in hosts):
            return platform
    return None


def _with_scheme(value: str) -> str:
    return value if "://" in value else "https://" + value


def _looks_like_url(value: str) -> bool:
    return "://" in value or re.match(r"^(www\.)?[a-z0-9-]+\.[a-z]{2,}/", value) is not None


def normalize_handle(platform: str, raw: str) -> str:
    """Lower-case, strip a leading @, and reduce pasted profile URLs to the handle."""
    value = (raw or "").strip()
    if not value:
        raise HandleError("Enter a handle.")
    if platform == "email":
        value = value.lower().removeprefix("mailto:")
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise HandleError(f"“{raw}” is not an email address.")
        return value
    # A URL always has a "/" (checked first: most values are plain handles).
    url = "/" in value and _looks_like_url(value.lower())
    if platform == "whatsapp" and not url:
        digits = re.sub(r"[^\d+]", "", value)
        if len(re.sub(r"\D", "", digits)) < 6:
            raise HandleError(f"“{raw}” is not a phone number.")
        return "+" + re.sub(r"\D", "", digits)
    if url:
        value = _handle_from_url(platform, value)
    value = value.strip().lstrip("@").strip().lower()
    if platform == "whatsapp":
        return "+" + re.sub(r"\D", "", value)
    if not value or _SPACE.search(value):
        raise HandleError(f"“{raw}” is not a valid handle.")
    pattern = _VALID.get(platform)
    if pattern and not pattern.match(value):
        raise HandleError(f"“{raw}” is not a valid {platform} handle.")
    return value[:255]


def search_term(term: str) -> str:
    """A word typed into a person search, read as a handle is stored: "@Maya.Makes" and
    "https://www.instagram.com/maya.makes/" both become "maya.makes"."""
    value = term.strip().lower()
    if "/" in value and _looks_like_url(value):
        platform = platform_of_url(value)
        if platform is not None:
            try:
                return normalize_handle(platform, value)
            except HandleError:
                return value
    return value.lstrip("@") or value


def _handle_from_url(platform: str, value: str) -> str:
    parts = urlsplit(_with_scheme(value.strip()))
    segments = [s for s in parts.path.split("/") if s]
    if platform == "facebook" and parts.query.startswith("id="):
        return parts.query.split("&")[0][3:]
    while segments and segments[0].lower() in _SKIP_SEGMENTS:
        segments = segments[1:]
    if not segments:
        raise HandleError(f"No handle found in “{value}”.")
    return segments[0]


def profile_url(platform: str, handle: str) -> str | None:
    """A link to the profile, for the platforms whose URL is predictable."""
    return {
        "instagram": f"https://www.instagram.com/{handle}/",
        "x": f"https://x.com/{handle}",
        "tiktok": f"https://www.tiktok.com/@{handle}",
        "youtube": f"https://www.youtube.com/@{handle}",
        "linkedin": f"https://www.linkedin.com/in/{handle}/",
        "facebook": f"https://www.facebook.com/{handle}",
        "snapchat": f"https://www.snapchat.com/add/{handle}",
        "whatsapp": f"https://wa.me/{handle.lstrip('+')}",
        "email": f"mailto:{handle}",
    }.get(platform)
