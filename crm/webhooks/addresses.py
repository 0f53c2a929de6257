"""Which URLs may receive webhooks: http or https, and a host whose every address is public
unless an admin allowed private receivers (the "webhooks_allow_private" setting).

Checked when an endpoint is registered and again at every delivery, on the addresses the
host resolves to then: the delivery connects to the address that was checked (sending.py),
so a name that resolves elsewhere a moment later (DNS rebinding) cannot reach inside.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from crm.core.errors import ValidationFailed
from crm.settings import services as settings

MAX_URL = 2000
ALLOW_PRIVATE = "webhooks_allow_private"


class AddressRefused(Exception):
    """The URL may not receive webhooks; str() says why, in words."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str           # path and query, as sent in the request line
    address: str        # the checked IP address to connect to


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL; AddressRefused otherwise."""
    url = (url or "").strip()
    if len(url) > MAX_URL:
        raise AddressRefused(f"The URL is longer than {MAX_URL:,} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("That is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise AddressRefused("The URL has no host name.")
    if parts.username or parts.password:
        raise AddressRefused("Leave user names and passwords out of the URL; receivers check "
                             "the signature instead.")
    if any(c.isspace() for c in url):
        raise AddressRefused("The URL contains spaces.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (tests replace this to stay off the network)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def private(address: str) -> bool:
    """True for loopback, private, link-local, shared, reserved and multicast addresses:
    anything that is not a public address on the internet."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_unspecified


def target(url: str, *, allow_private: bool | None = None) -> Target:
    """Check `url` now: its form, then every address its host resolves to. Returns where to
    connect; raises AddressRefused saying why not."""
    scheme, host, port, path = parse(url)
    if allow_private is None:
        allow_private = bool(settings.get(ALLOW_PRIVATE))
    try:
        found = resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError):
        raise AddressRefused(f"The host name “{host}” could not be resolved.") from None
    if not found:
        raise AddressRefused(f"The host name “{host}” could not be resolved.")
    if not allow_private:
        refused = [a for a in found if private(a)]
        if refused:
            raise AddressRefused(
                f"“{host}” resolves to a private address ({refused[0]}). Receivers inside "
                "your network are refused unless an admin allows private receivers.")
    return Target(scheme, host, port, path, found[0])


def check_for_registration(url: str) -> str:
    """The URL, cleaned, when it may be registered; ValidationFailed naming the field."""
    try:
        target(url)
    except AddressRefused as e:
        raise ValidationFailed(str(e), field="url") from None
    return url.strip()
