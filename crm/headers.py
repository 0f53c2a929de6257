"""Security headers on every response: one strict Content-Security-Policy, no framing,
HSTS over HTTPS, and nothing a signed-in user sees kept in a browser's or proxy's cache."""
from flask import Flask, request

# Scripts and styles come from our own static files only: no inline <script>, no on*
# attributes, no style attributes, no eval (htmx runs with allowEval off, see base.html).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HSTS = "max-age=31536000; includeSubDomains"


def register(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        # request.is_secure sees the client's scheme when ProxyFix trusts the balancer.
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages, fragments and exports carry people's messages: never stored. Only the
        # static files (the same for everyone) may be cached.
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response
