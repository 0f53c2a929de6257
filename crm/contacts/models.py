"""Contacts and what hangs directly off them."""
import re
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer,
                        String, Table, Text, UniqueConstraint, event, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.contacts.search_index import install
from crm.core.models import Timestamps
from crm.core.timeutil import utcnow
from crm.extensions import db

KINDS = ("contact", "influencer", "lead")
KIND_LABELS = {"contact": "Contact", "influencer": "Influencer", "lead": "Lead"}
CONSENT_STATES = ("unknown", "opted_in", "opted_out")
CONSENT_LABELS = {"unknown": "Unknown", "opted_in": "Opted in", "opted_out": "Opted out"}
PLATFORMS = ("instagram", "x", "tiktok", "youtube", "linkedin", "facebook", "whatsapp",
             "snapchat", "email", "other")
PLATFORM_LABELS = {
    "instagram": "Instagram", "x": "X", "tiktok": "TikTok", "youtube": "YouTube",
    "linkedin": "LinkedIn", "facebook": "Facebook", "whatsapp": "WhatsApp",
    "snapchat": "Snapchat", "email": "Email", "other": "Other",
}

# Partial indexes: the same WHERE on SQLite and PostgreSQL.
LIVE = {"sqlite_where": text("archived_at IS NULL"),
        "postgresql_where": text("archived_at IS NULL")}
ARCHIVED = {"sqlite_where": text("archived_at IS NOT NULL"),
            "postgresql_where": text("archived_at IS NOT NULL")}
# Live contacts with unknown consent whom we may contact (SQLite stores booleans as 0/1).
UNKNOWN_CONTACTABLE = {
    "sqlite_where": text("archived_at IS NULL AND consent_status = 'unknown' "
                         "AND do_not_contact = 0"),
    "postgresql_where": text("archived_at IS NULL AND consent_status = 'unknown' "
                             "AND do_not_contact = false")}

contact_tags = Table(
    "contact_tags",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_tags_tag", "tag_id", "contact_id"),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)


class Contact(Timestamps, db.Model):
    __tablename__ = "contacts"
    # Lists show live contacts (archived_at IS NULL) in name or time order, so their indexes
    # hold live contacts only: the first page is read in order, and SQLite is not tempted
    # to fetch every live contact by an archived_at index and sort them. owner_id rides
    # along so a rep's capped count never leaves the index (bench/README.md has the figures).
    __table_args__ = (
        Index("ix_contacts_sort_name", "sort_name", "id", "owner_id", **LIVE),
        Index("ix_contacts_phone_tail", "phone_tail"),
        Index("ix_contacts_owner_sort_name", "owner_id", "sort_name", "id", **LIVE),
        Index("ix_contacts_created", "created_at", "id", **LIVE),
        Index("ix_contacts_updated", "updated_at", "id", **LIVE),
        Index("ix_contacts_kind_sort_name", "kind", "sort_name", "id", "owner_id", **LIVE),
        Index("ix_contacts_consent", "consent_status", "sort_name", "id", "owner_id", **LIVE),
        Index("ix_contacts_dnc", "do_not_contact"),
        # Every owned contact, archived too: a rep's dashboard lists their contacts from this
        # index alone (the list indexes above hold live contacts only, so "owner is me"
        # scanned the table). Without the unowned ones, so that it cannot serve the "or no
        # owner" half of a rep's list, which then keeps reading the name index in order.
        Index("ix_contacts_owner", "owner_id", sqlite_where=text("owner_id IS NOT NULL"),
              postgresql_where=text("owner_id IS NOT NULL")),
        # "Unknown consent in outreach": the contactable live contacts with unknown consent,
        # for everyone or one owner, from the index alone. Partial, not led by archived_at:
        # without statistics SQLite took such an index for the list's "archived_at IS NULL"
        # and sorted every live contact by name.
        Index("ix_contacts_consent_outreach", "consent_status", "do_not_contact", "owner_id",
              **LIVE),
        # The same contacts by when we last DMed them (last_outbound_at, kept below): the
        # dashboard counts those DMed in a range from one range of this index.
        Index("ix_contacts_unknown_outreach", "last_outbound_at", "owner_id",
              **UNKNOWN_CONTACTABLE),
        Index("ix_contacts_email", "email"),
        Index("ix_contacts_archived", "sort_name", "id", **ARCHIVED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="contact")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sort_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    first_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    # The phone's last nine digits, however it was typed (None under nine): how a WhatsApp
    # number finds the contact whose phone it is (crm.channels.people). Kept with `phone`.
    phone_tail: Mapped[str | None] = mapped_column(String(9))
    company: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Influencers
    niche: Mapped[str | None] = mapped_column(String(100))
    rate_per_post_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    # Leads
    lead_source: Mapped[str | None] = mapped_column(String(100))
    estimated_value_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Consent, kept in step with the append-only ConsentEvent history
    consent_status: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")
    do_not_contact: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    consent_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when the person's data was erased (crm.privacy): the row stays, emptied, so the
    # counts that include it stay right.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The latest last outbound DM of the contact's conversations, written with their reply
    # state (crm.conversations.reply_state).
    last_outbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Lower-cased name, handles, email and company: what search looks in.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    owner = relationship("User", lazy="joined")
    handles = relationship("SocialHandle", back_populates="contact", cascade="all, delete-orphan",
                           order_by="SocialHandle.id", lazy="selectin")
    tags = relationship("Tag", secondary=contact_tags, lazy="selectin", order_by="Tag.name")
    consent_events = relationship("ConsentEvent", back_populates="contact",
                                  order_by="ConsentEvent.at.desc()", lazy="dynamic")

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def consent_label(self) -> str:
        return CONSENT_LABELS.get(self.consent_status, self.consent_status)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def primary_handle(self):
        return self.handles[0] if self.handles else None

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.name}>"


@event.listens_for(Contact.name, "set", retval=False)
def _keep_sort_name(target, value, oldvalue, initiator):
    target.sort_name = (value or "").strip().lower()


PHONE_TAIL = 9


def phone_tail(phone: str | None) -> str | None:
    """The last nine digits of a phone number as typed ("+44 7700 900-002" → "700900002"),
    None when it has fewer: enough to tell numbers apart, whatever country code, spaces or
    dashes the number was typed with."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-PHONE_TAIL:] if len(digits) >= PHONE_TAIL else None


@event.listens_for(Contact.phone, "set", retval=False)
def _keep_phone_tail(target, value, oldvalue, initiator):
    target.phone_tail = phone_tail(value)


class SocialHandle(db.Model):
    __tablename__ = "social_handles"
    __table_args__ = (
        UniqueConstraint("platform", "handle", name="uq_social_handles_platform_handle"),
        Index("ix_social_handles_contact", "contact_id", "platform"),
        Index("ix_social_handles_handle", "handle"),
        Index("ix_social_handles_platform_contact", "platform", "contact_id"),
        Index("ix_social_handles_account", "platform", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            nullable=False)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    handle: Mapped[str] = mapped_column(String(255), nullable=False)
    profile_url: Mapped[str | None] = mapped_column(String(500))
    account_id: Mapped[str | None] = mapped_column(String(100))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    engagement_rate: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    contact = relationship("Contact", back_populates="handles")

    @property
    def platform_label(self) -> str:
        return PLATFORM_LABELS.get(self.platform, self.platform)

    @property
    def display(self) -> str:
        return display_handle(self.platform, self.handle)


def display_handle(platform: str, handle: str) -> str:
    """A handle as people write it: "@name" where the platform uses @-mentions."""
    if platform in ("email", "whatsapp", "linkedin", "other", "facebook", "youtube"):
        return handle
    return "@" + handle


class ConsentEvent(db.Model):
    """Append-only: the app never updates or deletes these (see the guard below)."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_contact_at", "contact_id", "at"),
        # Covers the dashboard's opt-outs per period and source: a range of it, no row read.
        Index("ix_consent_events_opt_outs", "at", "to_status", "from_status", "to_dnc",
              "from_dnc", "evidence_message_id", "source", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    from_status: Mapped[str] = mapped_column(String(16), nullable=False)
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    from_dnc: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    to_dnc: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    note: Mapped[str | None] = mapped_column(Text)
    evidence_message_id: Mapped[int | None] = mapped_column(Integer)

    contact = relationship("Contact", back_populates="consent_events")
    actor = relationship("User", lazy="joined")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(ConsentEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("Consent history is append-only.")


@event.listens_for(ConsentEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("Consent history is append-only.")


class Note(db.Model):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_contact_at", "contact_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"),
                                            nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    author = relationship("User", lazy="joined")


@event.listens_for(Contact.__table__, "after_create")
def _create_search_index(target, connection, **kw):
    install(connection)
