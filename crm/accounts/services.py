"""Creating users, changing roles, deactivating."""
from crm.accounts import sessions, tokens
from crm.accounts.models import ROLES, User
from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.extensions import db

MIN_PASSWORD = 10


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def create_user(actor, *, email: str, name: str, role: str, password: str,
                timezone: str = "UTC") -> User:
    """Add a user; the email must be new and the password long enough."""
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ValidationFailed("Enter a valid email address.", field="email")
    if role not in ROLES:
        raise ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.", field="role")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(f"Password must be at least {MIN_PASSWORD} characters.",
                               field="password")
    if find_by_email(email):
        raise ValidationFailed(f"A user with the email {email} already exists.", field="email")
    user = User(email=email, name=(name or email.split("@")[0]).strip(), role=role,
                timezone=timezone)
    user.set_password(password)
    db.session.add(user)
    audit.record(actor, "create", user, summary=f"User {email} created as {role}")
    return user


def change_role(actor, user: User, role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.", field="role")
    if user.id == actor.id and role != "admin":
        raise ValidationFailed("You cannot remove your own admin role.", field="role")
    if user.role != role:
        audit.record(actor, "update", user, summary=f"Role of {user.email}: {user.role} → {role}",
                     changes={"role": [user.role, role]})
        user.role = role


def set_active(actor, user: User, active: bool) -> None:
    """Deactivating also ends the user's sessions and API tokens, so they stop working at
    once (reactivating brings neither back)."""
    if user.id == actor.id and not active:
        raise ValidationFailed("You cannot deactivate yourself.")
    if user.active != active:
        user.active = active
        if not active:
            sessions.end_all(user, "deactivated", actor=actor)
            tokens.revoke_all(actor, user, "user deactivated")
        audit.record(actor, "update", user,
                     summary=f"User {user.email} {'reactivated' if active else 'deactivated'}",
                     changes={"active": [not active, active]})


def active_users() -> list[User]:
    """Everyone who can sign in, by name (owner and assignee menus)."""
    return db.session.scalars(db.select(User).where(User.active.is_(True))
                              .order_by(User.name)).all()
