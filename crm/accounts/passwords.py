"""Changing one's password, and one-time reset links that an admin makes."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from crm.accounts import sessions, tokens
from crm.accounts import throttle as throttles
from crm.accounts.models import PasswordReset, User
from crm.accounts.services import MIN_PASSWORD
from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_new(new: str, confirm: str, field: str = "new_password") -> None:
    if len(new or "") < MIN_PASSWORD:
        raise ValidationFailed(f"The new password must be at least {MIN_PASSWORD} characters.",
                               field=field)
    if new != confirm:
        raise ValidationFailed("The two new passwords are not the same.", field="confirm")


def change_password(user: User, *, current: str, new: str, confirm: str,
                    address: str | None = None) -> int:
    """Set a new password (the current one is required); the user's other sessions and their
    API tokens end. Returns how many sessions ended."""
    if not user.check_password(current or ""):
        limits = throttles.throttle()
        if limits is not None:
            limits.failed(user.email, address or "")
        raise ValidationFailed("That is not your current password.", field="current_password")
    _check_new(new, confirm)
    if new == current:
        raise ValidationFailed("Choose a password different from the current one.",
                               field="new_password")
    user.set_password(new)
    audit.record(user, "password_changed", user, summary=f"{user.email} changed their password")
    tokens.revoke_all(user, user, "password changed")
    return sessions.end_all(user, "password changed", keep_current=True)


def create_reset_link(actor: User | None, user: User) -> str:
    """A one-time token for `user` to choose a new password; earlier unused ones stop working."""
    if not user.active:
        raise ValidationFailed(f"{user.name} is deactivated: reactivate them first.")
    now = utcnow()
    db.session.execute(update(PasswordReset)
                       .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
                              PasswordReset.expires_at > now)
                       .values(expires_at=now))
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(PasswordReset(user_id=user.id, token_hash=_hash(token),
                                 created_by_id=getattr(actor, "id", None),
                                 created_at=now, expires_at=now + timedelta(hours=hours)))
    audit.record(actor, "password_reset_link", user,
                 summary=f"Password reset link made for {user.email} (valid {hours} h)")
    return token


def reset_for(token: str) -> PasswordReset | None:
    """The unused, unexpired reset this token belongs to (its user active), if any."""
    if not token:
        return None
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = db.session.get(User, reset.user_id)
    return reset if user is not None and user.active else None


def reset_password(token: str, *, new: str, confirm: str) -> User:
    """Use a reset link: the new password is set, the link is spent, every session and API
    token ends."""
    reset = reset_for(token)
    if reset is None:
        raise ValidationFailed("This reset link has expired or was already used. Ask an admin "
                               "for a new one.")
    _check_new(new, confirm)
    user = db.session.get(User, reset.user_id)
    user.set_password(new)
    reset.used_at = utcnow()
    audit.record(None, "password_reset", user, summary=f"{user.email} set a new password "
                                                       f"with a reset link")
    sessions.end_all(user, "password reset")
    tokens.revoke_all(None, user, "password reset")
    limits = throttles.throttle()
    if limits is not None:
        limits.forget_account(user.email)
    return user
