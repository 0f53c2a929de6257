"""A connected channel, the signed events it received, and the replies sent through it."""
from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db

INSTAGRAM, MESSENGER, WHATSAPP = "instagram", "messenger", "whatsapp"
KINDS = (INSTAGRAM, MESSENGER, WHATSAPP)
KIND_LABELS = {INSTAGRAM: "Instagram", MESSENGER: "Messenger", WHATSAPP: "WhatsApp"}
# The conversation platform each kind's DMs are filed under.
KIND_PLATFORM = {INSTAGRAM: "instagram", MESSENGER: "facebook", WHATSAPP: "whatsapp"}

CONNECTED, NEEDS_RECONNECTING = "connected", "needs_reconnecting"
CHANNEL_STATUS_LABELS = {CONNECTED: "Connected", NEEDS_RECONNECTING: "Needs reconnecting"}

# A received event waits for the worker, then is done (or failed, with the reason kept).
PENDING, DONE, FAILED = "pending", "done", "failed"

# A reply sent from Rapport. Delivery only moves forward; failed is kept with its reason.
SENDING, SENT, DELIVERED, READ = "sending", "sent", "delivered", "read"
SEND_ORDER = {SENDING: 0, SENT: 1, DELIVERED: 2, READ: 3}
SEND_STATUS_LABELS = {SENDING: "Sending…", SENT: "Sent", DELIVERED: "Delivered", READ: "Read",
                      FAILED: "Not sent"}


class Channel(db.Model):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # The unguessable part of the callback path /webhooks/meta/<key>.
    key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # Fernet tokens (crm.channels.secrets); never shown again in full.
    app_secret: Mapped[str] = mapped_column(Text, nullable=False)
    verify_token: Mapped[str] = mapped_column(Text, nullable=False)
    access_token: Mapped[str] = mapped_column(Text, nullable=False)
    # Instagram professional account id or Facebook Page id (WhatsApp: the WABA id).
    account_id: Mapped[str] = mapped_column(String(64), nullable=False)
    phone_number_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=CONNECTED)
    status_detail: Mapped[str | None] = mapped_column(String(500))
    # Instagram/Messenger: allow a person's reply up to 7 days after the contact's last DM.
    human_agent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                 nullable=False)

    templates = relationship("WhatsAppTemplate", order_by="WhatsAppTemplate.name",
                             cascade="all, delete-orphan", lazy="selectin")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def platform(self) -> str:
        return KIND_PLATFORM[self.kind]

    @property
    def needs_reconnecting(self) -> bool:
        return self.status == NEEDS_RECONNECTING

    @property
    def status_label(self) -> str:
        return CHANNEL_STATUS_LABELS.get(self.status, self.status)


class WhatsAppTemplate(db.Model):
    """A message template the admin registered (approved by Meta under this name)."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("channel_id", "name", "language",
                                       name="uq_whatsapp_templates_channel_name_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            nullable=False)
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="en_US")
    # The body as approved, with {{1}} {{2}} … where the variables go.
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    variables: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ChannelEvent(db.Model):
    """One signed POST as received: stored first, processed by the worker."""

    __tablename__ = "channel_events"
    __table_args__ = (Index("ix_channel_events_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    # A receipt can name a message whose Send API answer is still being stored: the event
    # is tried again a little later (a few times, then its receipts are dropped).
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    # On SQLite, the key the event was given in the spool (crm.channels.spool): moved twice,
    # it is stored once.
    spool_key: Mapped[str | None] = mapped_column(String(32), unique=True)


class OutboundSend(db.Model):
    """A reply written in Rapport on its way through a channel's Send API."""

    __tablename__ = "outbound_sends"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_outbound_sends_channel_external"),
        Index("ix_outbound_sends_conversation", "conversation_id", "created_at"),
        # The DM poll's version reads the latest change from this index alone.
        Index("ix_outbound_sends_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            nullable=False)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recipient_id: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # RESPONSE, or MESSAGE_TAG with tag HUMAN_AGENT; WhatsApp: text or template.
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="response")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("whatsapp_templates.id", ondelete="SET NULL"))
    template_params: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=SENDING)
    error: Mapped[str | None] = mapped_column(String(500))
    # The platform's message id (mid / wamid) once known; the logged message then.
    external_id: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                 nullable=False)

    channel = relationship("Channel")
    author = relationship("User")
    template = relationship("WhatsAppTemplate")

    @property
    def status_label(self) -> str:
        return SEND_STATUS_LABELS.get(self.status, self.status)
