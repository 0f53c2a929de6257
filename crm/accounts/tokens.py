"""Personal API tokens: made on the account page or by `flask tokens create`, shown once,
stored as a SHA-256, revoked by their user; a request with one acts as that user.

A token stops working when it is revoked, when it expires, when its user is deactivated and
when their password changes (a new password ends every token made before it, as it ends
the user's other sessions).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from crm.accounts.models import ApiToken, User
from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db

PREFIX = "rpt_"          # says what the secret is when it turns up in a log or a repository
MAX_NAME = 80
MAX_DAYS = 3650
# last_used_at is written at most this often per token, in its own short transaction.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class NewToken:
    """A token just made: the row, and the secret shown to its user this once."""
    token: ApiToken
    secret: str


def create_token(actor, user: User, name: str, *, expires_in_days: int | None = None,
                 now: datetime | None = None) -> NewToken:
    """A new token for `user` (`actor` is who asked: the user, or None from the CLI)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the token after what will use it.", field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"The name is {len(name)} characters long; the limit is "
                               f"{MAX_NAME}.", field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise ValidationFailed(f"A token expires after 1 to {MAX_DAYS} days, or never.",
                               field="expires_in_days")
    if not user.active:
        raise ValidationFailed(f"{user.email} is deactivated.", field="email")
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret),
                     prefix=secret[:len(PREFIX) + 4], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days)
                     if expires_in_days else None)
    db.session.add(token)
    expiry = f"expires in {expires_in_days} days" if expires_in_days else "never expires"
    audit.record(actor, "token_created", user, summary=f"API token “{name}” made for "
                                                         f"{user.email} ({expiry})",
                 changes={"token": name, "expires_at": token.expires_at})
    return NewToken(token, secret)


def revoke_token(actor, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of `user`'s tokens; None when they have no such working token."""
    token = db.session.scalar(select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    token.revoked_at, token.revoked_reason = utcnow(), "revoked"
    audit.record(actor, "token_revoked", user,
                 summary=f"API token “{token.name}” of {user.email} revoked",
                 changes={"token": token.name})
    return token


def revoke_all(actor, user: User, reason: str) -> int:
    """Stop every working token of `user` (deactivated, new password); how many stopped."""
    stopped = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)).rowcount or 0
    if stopped:
        audit.record(actor, "token_revoked", user,
                     summary=f"{stopped} API token{'s' if stopped != 1 else ''} of "
                             f"{user.email} stopped ({reason})",
                     changes={"reason": reason, "count": stopped})
    return stopped


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, working ones first, newest first (revoked ones stay listed)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                  ApiToken.id.desc())))


def state_of(token: ApiToken, now: datetime | None = None) -> str:
    """"working", "expired" or "revoked" (the reason shows on the account page)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "working"


def user_for_token(secret: str) -> tuple[User, ApiToken] | None:
    """The user a bearer token acts as, and the token; None when it does not work."""
    if not secret or not secret.startswith(PREFIX):
        return None
    found = db.session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _hash(secret))).first()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if state_of(token, now) != "working" or not user.active:
        return None
    # Belt and braces: a password changed by any road ends the tokens made before it.
    if user.password_changed_at is not None and token.created_at < user.password_changed_at:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # Its own transaction: a GET commits nothing, and the request's work stays its own.
        with db.engine.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == token.id)
                         .values(last_used_at=now))
    return user, token
