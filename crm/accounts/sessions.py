"""Sessions kept on the server: started at sign-in, checked on every request, ended by
signing out, a new password, an admin, idleness or age.

The session cookie (and the remember-me cookie) carries a random secret; `user_sessions`
keeps its SHA-256, so a row read from the database cannot be replayed as a cookie.
"""
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from crm.accounts.models import User, UserSession
from crm.audit import services as audit
from crm.core import transaction
from crm.core.timeutil import utcnow
from crm.extensions import db

# last_seen_at is written at most this often per session, in its own short transaction.
TOUCH_EVERY = timedelta(seconds=60)


# Read on every request: built once, the hash bound at each use.
_SESSION_AND_USER = (select(UserSession, User).join(User, User.id == UserSession.user_id)
                     .where(UserSession.token_hash == bindparam("token_hash")))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def lifetime(remember: bool) -> timedelta:
    if remember:
        return current_app.config["REMEMBER_COOKIE_DURATION"]
    return timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])


def start(user: User, *, remember: bool = False, address: str | None = None,
          user_agent: str | None = None) -> str:
    """A new session for `user`; returns its secret (set on `user.session_secret` too)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(secret), remember=remember,
                               created_at=now, last_seen_at=now,
                               expires_at=now + lifetime(remember), address=address,
                               user_agent=(user_agent or "")[:255] or None))
    user.session_secret = secret
    return secret


def _expired(row: UserSession, now: datetime) -> str | None:
    if now >= row.expires_at:
        return "expired"
    if not row.remember and now - row.last_seen_at >= idle_limit():
        return "idle"
    return None


def user_for(secret: str) -> User | None:
    """The user of a live session with this secret (None when ended, expired or idle)."""
    if not secret:
        return None
    found = db.session.execute(_SESSION_AND_USER, {"token_hash": _hash(secret)}).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or not user.active:
        return None
    now = utcnow()
    reason = _expired(row, now)
    if reason:
        _end_expired(row, user, reason, now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        # Its own transaction: a GET commits nothing, and the request's work stays its own.
        with db.engine.begin() as conn:
            conn.execute(update(UserSession).where(UserSession.id == row.id)
                         .values(last_seen_at=now))
    user.session_secret = secret
    user.session_id = row.id
    return user


def _end_expired(row: UserSession, user: User, reason: str, now: datetime) -> None:
    """End a session found idle or too old, and audit it, in the request's own transaction
    (committed with its answer, even a refusal): a security write, so it happens on a GET
    too. Only the request that ends the row records it, so it is audited once."""
    ended = db.session.execute(
        update(UserSession).where(UserSession.id == row.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)).rowcount
    if ended:
        why = ("idle" if reason == "idle" else "too old") + " when next used"
        audit.record(None, "sessions_ended", user,
                     summary=f"A session of {user.email} ended ({why})",
                     changes={"reason": reason, "count": 1})
        transaction.commit_even_if_refused()


def end_current(user: User, reason: str = "signed out") -> None:
    """End the session this request was made in."""
    if user.session_secret:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(user.session_secret),
                   UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason))
        audit.record(user, "sign_out", user, summary=f"{user.email} signed out")


def end_all(user: User, reason: str, *, actor=None, keep_current: bool = False) -> int:
    """End every open session of `user` (but the current one when `keep_current`)."""
    stmt = (update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason))
    if keep_current and user.session_secret:
        stmt = stmt.where(UserSession.token_hash != _hash(user.session_secret))
    ended = db.session.execute(stmt).rowcount or 0
    if ended:
        audit.record(actor or user, "sessions_ended", user,
                     summary=f"{ended} session{'s' if ended != 1 else ''} of {user.email} "
                             f"ended ({reason})", changes={"reason": reason, "count": ended})
    return ended


def end_one(user: User, session_id: int) -> bool:
    """End one of the user's own other sessions (from the security page)."""
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user.id,
               UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason="ended by user")).rowcount
    if ended:
        audit.record(user, "sessions_ended", user, summary=f"A session of {user.email} ended",
                     changes={"reason": "ended by user", "count": 1})
    return bool(ended)


def open_sessions(user: User) -> list[UserSession]:
    """The user's sessions that still work, newest first."""
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc())).all()
    return [r for r in rows if _expired(r, now) is None]


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def device_label(user_agent: str | None) -> str:
    """'Chrome on macOS' from a User-Agent header, for the list of sessions."""
    ua = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in ua), None)
    system = next((name for mark, name in _SYSTEMS if re.search(re.escape(mark), ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (ua[:40] if ua else "Unknown browser")
