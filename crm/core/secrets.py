"""Secrets encrypted at rest with Fernet, under a key kept outside the database: live
channels' tokens and users' two-factor keys.

CHANNELS_ENCRYPTION_KEY (the name it had when only channels used it) holds one or more Fernet
keys separated by commas: the first encrypts, all of them decrypt, so a key can be rotated by
putting the new one first.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from crm.core.errors import ServiceError

KEY_SETTING = "CHANNELS_ENCRYPTION_KEY"


class SecretsUnavailable(ServiceError):
    """No key configured, or the stored secret was encrypted under another key."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in (current_app.config.get(KEY_SETTING) or "").split(",")
            if k.strip()]
    if not keys:
        raise SecretsUnavailable(
            f"{KEY_SETTING} is not set: secrets cannot be stored or read. `make run` keeps one "
            "in instance/channels_key; in production set it in the environment.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretsUnavailable(f"{KEY_SETTING} is not a valid Fernet key "
                                 "(32 url-safe base64-encoded bytes).") from None


def check_key() -> None:
    """Raise SecretsUnavailable unless a valid key is configured."""
    _fernet()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable(f"A stored secret cannot be read with the configured "
                                 f"{KEY_SETTING} (was the key changed?).") from None


def new_key() -> str:
    return Fernet.generate_key().decode()


class EncryptedText(TypeDecorator):
    """A column whose value is plain text in Python and a Fernet token in the database."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
