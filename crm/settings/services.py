"""Reading and writing settings; every key has a default, so a fresh workspace works."""
from crm.extensions import db
from crm.settings.models import Setting

DEFAULT_STOP_PHRASES = [
    "stop", "unsubscribe", "not interested", "don't message me", "dont message me",
    "do not message me", "don't contact me", "do not contact me", "remove me",
    "leave me alone", "stop messaging me", "no more messages", "opt out", "opt-out",
]

DEFAULTS = {
    "response_target_hours": 24,
    "duplicate_window_days": 7,
    "stop_phrases": DEFAULT_STOP_PHRASES,
}


def get(key: str):
    row = db.session.get(Setting, key)
    if row is None or row.value is None:
        return DEFAULTS[key]
    return row.value


def put(key: str, value) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
