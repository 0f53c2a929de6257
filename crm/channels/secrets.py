"""Channel secrets encrypted at rest with Fernet, under a key kept outside the database.

CHANNELS_ENCRYPTION_KEY holds one or more Fernet keys separated by commas: the first
encrypts, all of them decrypt, so a key can be rotated by putting the new one first.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from crm.core.errors import ServiceError


class SecretsUnavailable(ServiceError):
    """No key configured, or the stored secret was encrypted under another key."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in (current_app.config.get("CHANNELS_ENCRYPTION_KEY") or "").split(",")
            if k.strip()]
    if not keys:
        raise SecretsUnavailable(
            "CHANNELS_ENCRYPTION_KEY is not set: channel secrets cannot be stored. `make run` "
            "keeps one in instance/channels_key; in production set it in the environment.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretsUnavailable("CHANNELS_ENCRYPTION_KEY is not a valid Fernet key "
                                 "(32 url-safe base64-encoded bytes).") from None


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable("A channel secret cannot be read with the configured "
                                 "CHANNELS_ENCRYPTION_KEY (was the key changed?).") from None


def masked(value: str) -> str:
    """What the admin page shows of a secret: its last four characters at most."""
    return "••••" + value[-4:] if len(value) >= 12 else "••••"


def new_key() -> str:
    return Fernet.generate_key().decode()
