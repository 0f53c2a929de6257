"""Who an API request acts as: the user of its bearer token, never a session cookie; and how
often one token may call (per token, in the rate limiter's storage, Redis in production)."""
import math
import time

from flask import current_app, g, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from crm.accounts import tokens
from crm.api.problems import problem

EXTENSION = "rapport.api_limits"
CHALLENGE = 'Bearer realm="Rapport API"'


class TokenLimits:
    """API_RATE_LIMIT (e.g. "120 per minute;5000 per hour") for each token."""

    def __init__(self, storage_uri: str, limits: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.limits = parse_many(limits)

    def wait(self, token_id: int) -> int:
        """Count a request; seconds to wait when a limit is already used up (0: go ahead)."""
        waits = []
        for item in self.limits:
            if not self.limiter.hit(item, "api-token", str(token_id)):
                stats = self.limiter.get_window_stats(item, "api-token", str(token_id))
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits, default=0)


def _limits() -> TokenLimits | None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = current_app.extensions[EXTENSION] = TokenLimits(
            current_app.config["RATELIMIT_STORAGE_URI"], current_app.config["API_RATE_LIMIT"])
    return found


def authenticate():
    """Before every API request: the bearer token's user becomes `current_user`, or the
    request ends here with 401 (no or a dead token) or 429 (this token called too often)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return problem(401, "Send a personal API token: Authorization: Bearer <token> "
                            "(make one on your account page). Session cookies do not "
                            "sign in to the API.", headers={"WWW-Authenticate": CHALLENGE})
    found = tokens.user_for_token(secret.strip())
    if found is None:
        return problem(401, "This token does not work: it is unknown, expired or revoked, or "
                            "its user was deactivated or changed their password.",
                       headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
    user, token = found
    limits = _limits()
    wait = limits.wait(token.id) if limits is not None else 0
    if wait:
        return problem(429, f"This token made too many requests; try again in {wait} s.",
                       headers={"Retry-After": str(wait)})
    g._login_user = user      # Flask-Login's current_user, for this request only
    g.api_token = token
    return None
