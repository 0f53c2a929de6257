"""Failed sign-ins counted per account and per address, in the rate limiter's storage.

Only failures count: a person who signs in and out all day is never slowed down. The counts
live where Flask-Limiter keeps its own (`RATELIMIT_STORAGE_URI`, Redis in production), so
every app server sees the same numbers. Counts are keyed by the typed email whether or not
such a user exists, so a lock says nothing about which emails are real.
"""
import hashlib
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION = "rapport.signin_throttle"


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is not even tried, and for how long."""
    message: str
    retry_after: int  # seconds


class SigninThrottle:
    def __init__(self, storage_uri: str, per_account: str, per_address: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_account = parse_many(per_account)
        self.per_address = parse_many(per_address)

    @staticmethod
    def _account_key(email: str) -> str:
        # The email itself never reaches the shared store.
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]

    def _blocked_for(self, limits, *identifiers) -> int:
        """Seconds until the first exhausted limit lets another failure in (0: none is)."""
        waits = []
        for item in limits:
            if not self.limiter.test(item, *identifiers):
                stats = self.limiter.get_window_stats(item, *identifiers)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits, default=0)

    def refusal(self, email: str, address: str | None) -> Refusal | None:
        """A refusal when this account or this address has failed too often lately."""
        address = address or "unknown"
        wait = self._blocked_for(self.per_account, "signin-account", self._account_key(email))
        if wait:
            return Refusal(f"This account is locked after too many failed sign-ins. Try again "
                           f"in {_minutes(wait)}, or ask an admin for a password reset link.",
                           wait)
        wait = self._blocked_for(self.per_address, "signin-address", address)
        if wait:
            return Refusal(f"Too many failed sign-ins from your network. Try again in "
                           f"{_minutes(wait)}.", wait)
        return None

    def failed(self, email: str, address: str | None) -> bool:
        """Count a failure; True when it has just locked the account."""
        address = address or "unknown"
        account = self._account_key(email)
        for item in self.per_address:
            self.limiter.hit(item, "signin-address", address)
        locked = False
        for item in self.per_account:
            if not self.limiter.hit(item, "signin-account", account) or \
                    not self.limiter.test(item, "signin-account", account):
                locked = True
        return locked

    def forget_account(self, email: str) -> None:
        """A successful sign-in or a new password clears the account's failures."""
        for item in self.per_account:
            self.limiter.clear(item, "signin-account", self._account_key(email))


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = SigninThrottle(
        app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        app.config["LOGIN_ACCOUNT_LIMIT"], app.config["LOGIN_RATE_LIMIT"])


def throttle() -> SigninThrottle | None:
    """This app's throttle, or None where rate limiting is off (the tests' default)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    return current_app.extensions[EXTENSION]
