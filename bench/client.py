"""A small HTTP client for the benchmark: signs in through the real form, keeps the session
cookie, reads the CSRF token a page carries, and times sequential requests."""
import http.client
import math
import re
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

CSRF_HEADER = re.compile(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    seconds: float


class Client:
    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> Response:
        """One request on a kept-alive connection (reopened when the server closes it)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        seconds = time.perf_counter() - started
        for cookie in resp.msg.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if resp.will_close:
            self.close()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, seconds)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict | str, headers: dict | None = None) -> Response:
        body = form if isinstance(form, str) else urlencode(form)
        return self.request("POST", path, body=body, headers=headers)

    def csrf_token(self, path: str = "/") -> str:
        """The token a page hands to its forms and HTMX requests (also stores it in the
        session cookie, which is why the cookie is read after this)."""
        html = self.get(path).body.decode()
        match = CSRF_HEADER.search(html) or CSRF_INPUT.search(html)
        if not match:
            raise RuntimeError(f"No CSRF token on {path}")
        return match.group(1)

    def login(self, email: str, password: str) -> None:
        """Sign in through the login form, as a person would."""
        token = self.csrf_token("/login")
        resp = self.post("/login", {"csrf_token": token, "email": email, "password": password})
        if resp.status != 302 or "session" not in self.cookies:
            raise RuntimeError(f"Could not sign in as {email}: HTTP {resp.status}")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 200 samples is the 190th fastest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def summarize(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2)}
