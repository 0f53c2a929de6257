"""One HTTP POST to a receiver, on the address that was checked (addresses.target), with a
timeout. Redirects are not followed (a 3xx is a failed attempt), and only the first few
kilobytes of the answer are read."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from crm.webhooks.addresses import Target

READ_AT_MOST = 4096


@dataclass
class Answer:
    ok: bool
    code: int | None
    duration_ms: int
    error: str | None


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address; the certificate is verified for the URL's host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout,
                         context=ssl.create_default_context())
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body`; a 2xx answer is a success, anything else (or no answer) a failure."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = kind(target, timeout)
    started = time.monotonic()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(READ_AT_MOST)
        code = response.status
    except (socket.timeout, TimeoutError):
        return Answer(False, None, _ms(started), f"No answer within {timeout:g} seconds.")
    except ssl.SSLError as e:
        return Answer(False, None, _ms(started), f"TLS failed: {e.reason or e}"[:300])
    except (OSError, http.client.HTTPException) as e:
        return Answer(False, None, _ms(started), f"Could not connect: {e}"[:300])
    finally:
        conn.close()
    if 200 <= code < 300:
        return Answer(True, code, _ms(started), None)
    if 300 <= code < 400:
        return Answer(False, code, _ms(started), f"HTTP {code}: redirects are not followed.")
    return Answer(False, code, _ms(started), None)      # the status says it all


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
