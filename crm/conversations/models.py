"""Conversations (one contact, one platform) and their messages."""
from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.ddl import install_after_create
from crm.core.timeutil import utcnow
from crm.extensions import db

# Reply state kept on the conversation as messages are written.
NEEDS_REPLY = "needs_reply"      # the latest message is inbound: the contact waits on us
AWAITING_REPLY = "awaiting_reply"  # the latest is outbound: we wait on them
CLOSED = "closed"
STATES = (NEEDS_REPLY, AWAITING_REPLY, CLOSED)
STATE_LABELS = {NEEDS_REPLY: "Needs reply", AWAITING_REPLY: "Awaiting reply", CLOSED: "Closed"}
INBOUND, OUTBOUND = "in", "out"
DIRECTION_LABELS = {INBOUND: "Received", OUTBOUND: "Sent"}
# What a message carries besides text (the import parsers use the same words).
MEDIA_LABELS = {"photo": "Photo", "video": "Video", "audio": "Voice message", "gif": "GIF",
                "sticker": "Sticker", "file": "File", "share": "Shared post", "media": "Attachment"}


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("contact_id", "platform", "external_thread_id",
                         name="uq_conversations_contact_platform_thread"),
        # contact_id: the dashboard's waiting counts check a rep's scope without row lookups.
        Index("ix_conversations_waiting", "state", "waiting_since", "contact_id"),
        Index("ix_conversations_contact", "contact_id", "last_message_at"),
        # contact_id: "unknown consent in outreach" lists the contacts DMed in a range from
        # this index alone.
        Index("ix_conversations_outbound", "state", "last_outbound_at", "contact_id"),
        Index("ix_conversations_state_platform_waiting", "state", "platform", "waiting_since"),
        # One owner's conversations, and those waiting on them by when they started waiting:
        # the dashboard's figures for one owner.
        Index("ix_conversations_owner_waiting", "contact_owner_id", "state", "waiting_since"),
        # The snoozed ones, for the job that puts them back when their time comes.
        Index("ix_conversations_snoozed", "snoozed_until",
              sqlite_where=text("snoozed_until IS NOT NULL"),
              postgresql_where=text("snoozed_until IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False)
    # The contact's owner, for one owner's conversations without a lookup of each contact:
    # written when the conversation is made and when its contact is reassigned or it moves
    # to another contact (crm.contacts.owner_copies).
    contact_owner_id: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    # '' for the conversation a user logs by hand; imports use the platform's thread id.
    external_thread_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    title: Mapped[str | None] = mapped_column(String(200))
    is_group: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=CLOSED)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_outbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    # First inbound message of the current unanswered burst (the wait started then).
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime)
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The latest message, shortened, so the inbox can show it without reading messages.
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    # Set when an inbound message reads like an opt-out and nobody has acted on it yet.
    opt_out_message_id: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Snoozed: closed until then, when it comes back to the inbox (unless a message came first).
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when its messages were erased (a person's erasure, or the retention limit): they
    # stay as anonymous records that a DM was sent or received then.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    contact = relationship("Contact", lazy="joined")

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


def _not_null(column: str) -> dict:
    return {"sqlite_where": text(f"{column} IS NOT NULL"),
            "postgresql_where": text(f"{column} IS NOT NULL")}


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_sent", "conversation_id", "sent_at", "id"),
        # replied_at is included so a template's sent count and reply rate come from the index.
        # Partial, like the author index: every query names a template (an author), and most
        # messages have none (imported and inbound ones), so they cost no index writes.
        Index("ix_messages_template", "template_id", "sent_at", "replied_at",
              **_not_null("template_id")),
        Index("ix_messages_conversation_template", "conversation_id", "template_id",
              **_not_null("template_id")),
        Index("ix_messages_author_sent", "author_id", "sent_at", **_not_null("author_id")),
        # Marking a conversation's unanswered outbound messages as replied reads only its rows.
        Index("ix_messages_conversation_unreplied", "conversation_id", "direction",
              "replied_at", "sent_at"),
        # Covers the dashboard's counts per week, rep, template and platform without row lookups.
        Index("ix_messages_direction_sent", "direction", "sent_at", "conversation_id",
              "author_id", "template_id", "replied_at"),
        # A conversation holds a platform message (by its id, or by its fingerprint for
        # formats without ids) once: what makes a repeated import or webhook add nothing.
        Index("uq_messages_external", "conversation_id", "external_id", unique=True,
              **_not_null("external_id")),
        Index("uq_messages_fingerprint", "conversation_id", "fingerprint", unique=True,
              **_not_null("fingerprint")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    media: Mapped[str | None] = mapped_column(String(16))
    # Outbound: the team member who wrote it. Inbound messages have no author.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Whoever entered the message by hand (either direction); they may correct it.
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("dm_templates.id"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    # Outbound: when the contact next wrote to us (None while unanswered).
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Outbound sent through a live channel: sent | delivered | read | failed (and why).
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The platform reported it deleted (unsent): the row stays, its text is erased, and it
    # no longer counts (crm.conversations.ingest.mark_deleted says how).
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation = relationship("Conversation")
    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    logged_by = relationship("User", foreign_keys=[logged_by_id])
    template = relationship("DMTemplate")

    @property
    def is_inbound(self) -> bool:
        return self.direction == INBOUND

    @property
    def media_label(self) -> str | None:
        return MEDIA_LABELS.get(self.media, self.media.title()) if self.media else None


class ResponseTime(db.Model):
    """One inbound burst and when we first answered it: what response metrics aggregate."""

    __tablename__ = "response_times"
    __table_args__ = (
        Index("ix_response_times_conversation", "conversation_id", "burst_started_at"),
        Index("ix_response_times_answered", "answered_at"),
        Index("ix_response_times_burst", "burst_started_at", "conversation_id",
              "response_seconds", "responder_id", "answered_at"),
        Index("ix_response_times_responder", "responder_id", "answered_at"),
        # The dashboard's median and p90 read only the response times in the few buckets of
        # values holding the wanted ranks: one range of this index per bucket.
        Index("ix_response_times_seconds", "response_seconds", "burst_started_at",
              "responder_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    burst_started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# The word-search index over message bodies (crm.conversations.search_index).
install_after_create(db.metadata, "crm.conversations.search_index", {"messages"})


# A WhatsApp media file: waiting to be fetched, stored in MEDIA_FOLDER, or failed (and why).
MEDIA_PENDING, MEDIA_STORED, MEDIA_FAILED = "pending", "stored", "failed"


class MessageMedia(db.Model):
    """The file of a media message (a WhatsApp image, audio, video, document or sticker):
    the channel sends only its media id; a job fetches the file into MEDIA_FOLDER
    (crm.channels.media). It lives and dies with its message: the ingestion service
    removes the file when the message is deleted or unsent (ingest.forget_files)."""

    __tablename__ = "message_media"
    # The DM poll's version reads the latest change from this index alone.
    __table_args__ = (Index("ix_message_media_updated", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            nullable=False, unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            nullable=False)
    # Meta's media id (valid for 7 days after the webhook) and what the webhook declared.
    media_id: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)     # image, audio, …
    declared_type: Mapped[str | None] = mapped_column(String(120))
    filename: Mapped[str | None] = mapped_column(String(255))        # a document's name
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=MEDIA_PENDING)
    # Once stored: the file's name inside MEDIA_FOLDER, its checked type and size.
    path: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                 nullable=False)
