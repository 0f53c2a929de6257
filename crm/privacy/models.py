"""Erasures and the suppression list that makes them stick.

An erased person leaves a keyed one-way hash (HMAC-SHA256 under PRIVACY_HASH_KEY, else the
app's SECRET_KEY) of each of their emails, phone numbers, handles, platform ids and thread
ids. Every road that would bring them back asks here first: the contacts and conversations
services (so any caller inherits it), the importers' previews (in bulk) and the live
channel worker. The hashes say nothing by themselves; only the same value, hashed under the
same key, matches one.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db

REQUEST, RETENTION = "request", "retention"
SOURCE_LABELS = {REQUEST: "Erasure request", RETENTION: "Retention limit"}
CHUNK = 500


class Erasure(db.Model):
    """One person erased: when, by whom, why, and what went (counts only)."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_at", "erased_at"),
                      Index("ix_erasures_contact", "contact_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # The contact row that stays, emptied ("Erased person"), so counts stay right.
    contact_id: Mapped[int | None] = mapped_column(Integer)
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16), nullable=False, default=REQUEST)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    removed: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")
    lifted_by = relationship("User", foreign_keys=[lifted_by_id])

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def removed_lines(self) -> list[str]:
        return [counted(n, what) for what, n in (self.removed or {}).items()]

    @property
    def suppressing(self) -> bool:
        return self.source == REQUEST and self.lifted_at is None


# How the counts of what an erasure removes read when there is one.
SINGULAR = {"entries": "entry"}


def counted(n: int, plural: str) -> str:
    """"1 message", "2 messages", "1 audit entry" (the last word made singular)."""
    if n == 1:
        head, _, last = plural.rpartition(" ")
        last = SINGULAR.get(last, last[:-1] if last.endswith("s") else last)
        plural = f"{head} {last}".strip()
    return f"{n:,} {plural}"


class Suppression(db.Model):
    """A keyed hash of one identifier of an erased person."""

    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_erasure", "erasure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    erasure_id: Mapped[int] = mapped_column(ForeignKey("erasures.id", ondelete="CASCADE"),
                                            nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class ErasedPerson(ValidationFailed):
    """The person was erased at their request: Rapport does not take them in again."""

    def __init__(self, field: str | None = None):
        super().__init__("This person's data was erased at their request, so Rapport does not "
                         "add them again. An admin can lift that under Admin → Privacy if they "
                         "came back of their own accord.", field=field)


# -- identifiers -----------------------------------------------------------------------------
def _key() -> bytes:
    cfg = current_app.config
    return (cfg.get("PRIVACY_HASH_KEY") or cfg["SECRET_KEY"]).encode()


def digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def identifier(kind: str, value: str | None, platform: str = "") -> str | None:
    """The canonical text of one identifier ("email", "phone", "handle", "account",
    "thread", "url"), or None when there is nothing to hash."""
    value = (value or "").strip()
    if kind == "email":
        value = value.lower()
    elif kind == "phone":
        value = digits(value)
        if len(value) < 7:
            return None
    elif kind in ("handle", "url"):
        value = value.lower().rstrip("/")
        if kind == "handle":
            value = value.lstrip("@")
    if not value:
        return None
    return f"{kind}:{platform if kind not in ('email', 'phone') else ''}:{value}"


def digest_of(text: str) -> str:
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def digests(pairs) -> set[str]:
    """Hashes of (kind, value, platform) triples (empty identifiers left out)."""
    out = set()
    for kind, value, platform in pairs:
        text = identifier(kind, value, platform)
        if text is not None:
            out.add(digest_of(text))
    return out


def suppressed(hashes) -> set[str]:
    """Which of these hashes are on the suppression list (a query per 500)."""
    wanted = sorted(set(hashes))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(db.session.scalars(select(Suppression.digest).where(
            Suppression.digest.in_(wanted[start:start + CHUNK]))))
    return found


# Whether the list holds anyone, as this transaction read it: most workspaces never erase
# anyone, and then no road pays more than one statement per transaction for the check. Kept
# with the transaction it was read in (a new transaction reads it again).
_ANY = "rapport.any_suppressed"


def list_changed() -> None:
    """Call after adding or removing suppressions."""
    db.session.info.pop(_ANY, None)


def any_suppressed() -> bool:
    """Whether anyone is kept out at all (the roads skip hashing when nobody is)."""
    transaction = db.session().get_transaction()
    known = db.session.info.get(_ANY)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1]
    found = db.session.scalar(select(Suppression.id).limit(1)) is not None
    db.session.info[_ANY] = (db.session().get_transaction(), found)
    return found


def is_suppressed(pairs) -> bool:
    pairs = list(pairs)
    if not any(value for _, value, _ in pairs) or not any_suppressed():
        return False
    hashes = digests(pairs)
    return bool(hashes) and bool(suppressed(hashes))


def refuse_if_suppressed(pairs, field: str | None = None) -> None:
    """Raise ErasedPerson when any of these identifiers belongs to an erased person."""
    if is_suppressed(pairs):
        raise ErasedPerson(field)


def contact_identifiers(email=None, phone=None, handles=()) -> list[tuple]:
    """The identifiers a new contact would bring: email, phone and (platform, handle)s; a
    WhatsApp handle is a phone number too."""
    pairs = [("email", email, ""), ("phone", phone, "")]
    for platform, handle in handles:
        pairs.append(("handle", handle, platform))
        pairs.append(("account", handle, platform))
        if platform == "whatsapp":
            pairs.append(("phone", handle, ""))
    return pairs


def erasure_of(contact_id: int) -> Erasure | None:
    """The latest erasure of a contact (the page of what remains of them shows it)."""
    return db.session.scalar(select(Erasure).where(Erasure.contact_id == contact_id)
                             .order_by(Erasure.id.desc()).limit(1))
