"""Reading and writing settings; every key has a default, so a fresh workspace works."""
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm.core import cache as figure_cache
from crm.extensions import db
from crm.settings.models import Setting

# The saved settings as one session read them: a request asks for several, and a key never
# saved would otherwise cost a statement every time it is asked for.
_SAVED = "rapport.settings"
_ALL_SAVED = select(Setting)

DEFAULT_STOP_PHRASES = [
    "stop", "unsubscribe", "not interested", "don't message me", "dont message me",
    "do not message me", "don't contact me", "do not contact me", "remove me",
    "leave me alone", "stop messaging me", "no more messages", "opt out", "opt-out",
]

DEFAULTS = {
    "response_target_hours": 24,
    "duplicate_window_days": 7,
    "stop_phrases": DEFAULT_STOP_PHRASES,
    "require_two_factor": False,
    # Outbound webhooks to loopback, private and link-local addresses (crm.webhooks.addresses).
    "webhooks_allow_private": False,
    # Privacy (crm.privacy.retention): None keeps closed conversations and archived contacts
    # for ever; consent evidence is kept this long in any case.
    "retention_closed_conversation_days": None,
    "retention_archived_contact_days": None,
    "consent_evidence_days": 1095,
}


@event.listens_for(Session, "after_soft_rollback")
def _forget_saved(session, previous_transaction) -> None:
    session.info.pop(_SAVED, None)     # a rolled-back put must not linger


def _read_saved() -> dict:
    return {row.key: row.value for row in db.session.scalars(_ALL_SAVED)}


def _saved() -> dict:
    saved = db.session.info.get(_SAVED)
    if saved is None:
        # Remembered across requests until a transaction that changes them commits (one
        # changing them now reads its own, uncommitted values: crm.core.cache.remember).
        saved = figure_cache.remember("settings", (), _read_saved,
                                      reads=(Setting.__tablename__,))
        db.session.info[_SAVED] = saved
    return saved


def get(key: str):
    value = _saved().get(key)
    return DEFAULTS[key] if value is None else value


def put(key: str, value) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
    db.session.info.pop(_SAVED, None)
    figure_cache.changed(db.session, Setting.__tablename__)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
