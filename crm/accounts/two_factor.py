"""Two-factor sign-in: time-based one-time codes (RFC 6238, pyotp) and recovery codes.

The secret is written when enrolment starts and counts only once a code from the person's
app confirms it. Recovery codes are random (80 bits), shown once, and stored as SHA-256
hashes; each works once. A code's time step, once used, is refused a second time.
"""
import hashlib
import io
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from sqlalchemy import delete, func, select

from crm.accounts import sessions
from crm.accounts.models import RecoveryCode, User
from crm.audit import services as audit
from crm.core.timeutil import utcnow
from crm.core import secrets as encrypted
from crm.extensions import db
from crm.settings import services as settings

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"   # no 0/o, 1/l/i


def required_for(user: User) -> bool:
    """The admin setting: admins and managers must sign in with a code."""
    return bool(settings.get("require_two_factor")) and user.role in ("admin", "manager")


def set_required(actor: User, required: bool) -> int:
    """Require (or stop requiring) two-factor for admins and managers. Turning it on signs out
    those who have not set it up (the admin doing it aside), so they enrol at their next
    sign-in rather than when their sessions happen to end. Returns how many were signed out."""
    if required == bool(settings.get("require_two_factor")):
        return 0
    settings.put("require_two_factor", required)
    audit.record(actor, "two_factor_required", None, entity_type="settings",
                 summary="Two-factor sign-in " + ("required" if required else
                                                  "no longer required")
                 + " for admins and managers",
                 changes={"require_two_factor": [not required, required]})
    if not required:
        return 0

    signed_out = 0
    for user in db.session.scalars(select(User).where(
            User.role.in_(("admin", "manager")), User.active.is_(True),
            User.totp_enabled_at.is_(None), User.id != actor.id)):
        if sessions.end_all(user, "two-factor required", actor=actor):
            signed_out += 1
    return signed_out


def start_enrolment(user: User) -> None:
    """Give the user a secret to add to their app (kept until confirmed or cancelled)."""
    if user.two_factor_on:
        return
    if not user.totp_secret:
        encrypted.check_key()                # stored encrypted: refuse now, not at commit
        user.totp_secret = pyotp.random_base32()


def cancel_enrolment(user: User) -> None:
    if not user.two_factor_on:
        user.totp_secret = None


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg(user: User) -> bytes:
    """The enrolment QR code as an SVG image (served as a file, never inlined)."""
    image = qrcode.make(provisioning_uri(user), image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def grouped_secret(user: User) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    s = user.totp_secret or ""
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _matching_step(user: User, code: str) -> int | None:
    """The time step whose code this is (this one or a neighbour, for clock drift)."""
    if not (code.isdigit() and len(code) == 6 and user.totp_secret):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = int(time.time() // totp.interval)
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_app_code(user: User, code: str) -> bool:
    """A fresh code from the user's app (each time step works once)."""
    step = _matching_step(user, _normal(code))
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def use_recovery_code(user: User, code: str) -> bool:
    row = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(_normal(code)),
        RecoveryCode.used_at.is_(None)))
    if row is None:
        return False
    row.used_at = utcnow()
    audit.record(user, "recovery_code_used", user,
                 summary=f"{user.email} signed in with a recovery code "
                         f"({recovery_codes_left(user)} left)")
    return True


def verify(user: User, code: str) -> bool:
    """A code from the app or an unused recovery code."""
    return check_app_code(user, code) or use_recovery_code(user, code)


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; returns the new ones (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn two-factor on when `code` comes from the app; returns the recovery codes."""
    if user.two_factor_on or not user.totp_secret or not check_app_code(user, code):
        return None
    user.totp_enabled_at = utcnow()
    audit.record(user, "two_factor_on", user, summary=f"{user.email} turned on two-factor "
                                                      f"sign-in")
    return new_recovery_codes(user)


def regenerate(user: User) -> list[str]:
    codes = new_recovery_codes(user)
    audit.record(user, "recovery_codes", user, summary=f"{user.email} made new recovery codes")
    return codes


def turn_off(user: User, actor: User | None) -> None:
    """Two-factor off: the secret and the recovery codes are gone (actor None: the CLI)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if actor is None:
        summary = f"Two-factor sign-in turned off for {user.email} from the command line"
    elif actor.id == user.id:
        summary = f"{user.email} turned off their two-factor sign-in"
    else:
        summary = f"{actor.email} turned off two-factor sign-in for {user.email}"
    audit.record(actor, "two_factor_off", user, summary=summary)
