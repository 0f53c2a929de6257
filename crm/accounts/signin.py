"""Checking a sign-in: throttled, audited, and as slow for unknown emails as for known ones."""
from dataclasses import dataclass
from functools import lru_cache
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from crm.accounts import throttle as throttles
from crm.accounts import two_factor
from crm.accounts.models import User
from crm.accounts.services import find_by_email, normalize_email
from crm.audit import services as audit
from crm.core.timeutil import utcnow

WRONG = "Email or password is not right, or the account is deactivated."


@dataclass
class Outcome:
    user: User | None = None
    error: str | None = None
    throttled: bool = False
    retry_after: int = 0
    method: str = "password"


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash of nothing anyone knows, checked when the email is unknown so that the answer
    takes as long as for a real account."""
    return generate_password_hash(secrets.token_urlsafe(24))


def signed_in(user: User, address: str, method: str = "password") -> None:
    """Note a successful sign-in on the user and in the audit log; the account's failures are
    forgotten only now, so a known password does not reset the count of guessed codes."""
    limits = throttles.throttle()
    if limits is not None:
        limits.forget_account(user.email)
    user.last_login_at = utcnow()
    audit.record(user, "sign_in", user,
                 summary=f"{user.email} signed in from {address} ({method})",
                 changes={"address": address, "method": method})


def check_credentials(email: str, password: str, address: str) -> Outcome:
    """The user whose email and password these are, or why not (nothing is signed in here)."""
    email = normalize_email(email)
    limits = throttles.throttle()
    if limits is not None:
        refusal = limits.refusal(email, address)
        if refusal is not None:
            return Outcome(error=refusal.message, throttled=True,
                           retry_after=refusal.retry_after)
    user = find_by_email(email)
    if user is None:
        check_password_hash(_decoy_hash(), password or "")
        ok = False
    else:
        ok = user.check_password(password or "") and user.active
    if ok:
        return Outcome(user=user)   # its failures are forgotten once signed in (signed_in)
    _failed(limits, user, email, address, f"Failed sign-in as {email[:120]} from {address}")
    return Outcome(error=WRONG)


def _failed(limits, user: User | None, email: str, address: str, summary: str,
            step: str = "password") -> None:
    """Count a failure against the account and the address, and audit it (and a lock)."""
    locked = limits.failed(email, address) if limits is not None else False
    audit.record(None, "sign_in_failed", user, entity_type="user", summary=summary,
                 changes={"email": email[:255], "address": address, "step": step})
    if locked:
        audit.record(None, "sign_in_locked", user, entity_type="user",
                     summary=f"Sign-in as {email[:120]} locked after repeated failures",
                     changes={"email": email[:255], "address": address})


def check_code(user: User, code: str, address: str) -> Outcome:
    """The second step of a sign-in: an app code or a recovery code, throttled like passwords."""
    limits = throttles.throttle()
    if limits is not None:
        refusal = limits.refusal(user.email, address)
        if refusal is not None:
            return Outcome(error=refusal.message, throttled=True,
                           retry_after=refusal.retry_after)
    if two_factor.check_app_code(user, code):
        method = "password and code"
    elif two_factor.use_recovery_code(user, code):
        method = "password and recovery code"
    else:
        _failed(limits, user, user.email, address,
                f"Wrong two-factor code for {user.email} from {address}", step="code")
        return Outcome(error="That code is not right. Use the newest code from your app, "
                             "or one of your recovery codes.")
    return Outcome(user=user, method=method)
