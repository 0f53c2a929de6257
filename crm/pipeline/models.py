"""Pipelines with ordered stages, and the deals that move through them."""
from datetime import date, datetime

from sqlalchemy import (BigInteger, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import Timestamps
from crm.core.timeutil import utcnow
from crm.extensions import db

OPEN, WON, LOST = "open", "won", "lost"
OUTCOMES = (OPEN, WON, LOST)


class Pipeline(db.Model):
    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    # "influencer" pipelines record deliverables and results when a deal closes.
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="sales")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    follow_up_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    stages = relationship("Stage", back_populates="pipeline", order_by="Stage.position",
                          lazy="selectin")

    @property
    def active_stages(self):
        return [s for s in self.stages if s.retired_at is None]

    @property
    def is_influencer(self) -> bool:
        return self.kind == "influencer"

    def first_open_stage(self):
        return next((s for s in self.active_stages if s.outcome == OPEN), None)

    def closing_stage(self, outcome: str):
        """The first active won (or lost) stage: where "Mark won/lost" puts a deal."""
        return next((s for s in self.active_stages if s.outcome == outcome), None)


class Stage(db.Model):
    __tablename__ = "stages"
    __table_args__ = (Index("ix_stages_pipeline_position", "pipeline_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(String(8), nullable=False, default=OPEN)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)

    pipeline = relationship("Pipeline", back_populates="stages")

    @property
    def is_closed(self) -> bool:
        return self.outcome != OPEN

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class LostReason(db.Model):
    __tablename__ = "lost_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class Deal(Timestamps, db.Model):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_stage_entered", "stage_id", "stage_entered_at", "id"),
        Index("ix_deals_pipeline_outcome", "pipeline_id", "outcome"),
        Index("ix_deals_owner_outcome", "owner_id", "outcome"),
        Index("ix_deals_contact", "contact_id"),
        Index("ix_deals_campaign", "campaign_id", "stage_id"),
        Index("ix_deals_closed", "outcome", "closed_at"),
        Index("ix_deals_pipeline_platform", "pipeline_id", "platform"),
        # The board's column totals (count and value per stage and currency) read this index
        # alone, in GROUP BY order; the two owners are there for a rep's deal scope, and
        # archived_at (always NULL here) because SQLite otherwise reads each deal's row to
        # test the WHERE clause the index's own condition already guarantees.
        Index("ix_deals_board_totals", "pipeline_id", "stage_id", "currency", "value_minor",
              "owner_id", "contact_owner_id", "archived_at",
              sqlite_where=text("archived_at IS NULL"),
              postgresql_where=text("archived_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), nullable=False)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The contact's owner, for the deal scope's WHERE clause: written when the deal is
    # opened and when its contact is reassigned (crm.contacts.owner_copies).
    contact_owner_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    value_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    platform: Mapped[str | None] = mapped_column(String(16))
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    next_step: Mapped[str | None] = mapped_column(String(200))
    next_step_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(8), nullable=False, default=OPEN)
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lost_reason_id: Mapped[int | None] = mapped_column(ForeignKey("lost_reasons.id"))
    lost_note: Mapped[str | None] = mapped_column(Text)
    # Influencer collaborations: deliverables and results
    post_type: Mapped[str | None] = mapped_column(String(40))
    posted_url: Mapped[str | None] = mapped_column(String(500))
    posted_on: Mapped[date | None] = mapped_column(Date)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    conversions: Mapped[int | None] = mapped_column(Integer)
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    contact = relationship("Contact", lazy="joined")
    stage = relationship("Stage", lazy="joined")
    pipeline = relationship("Pipeline")
    owner = relationship("User", lazy="joined")
    campaign = relationship("Campaign", back_populates="deals")
    lost_reason = relationship("LostReason")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.outcome == OPEN

    def seconds_in_stage(self, now: datetime | None = None) -> int:
        return max(0, int(((now or utcnow()) - self.stage_entered_at).total_seconds()))

    @property
    def days_in_stage(self) -> int:
        return self.seconds_in_stage() // 86400

    @property
    def has_results(self) -> bool:
        return any(v is not None for v in (self.posted_url, self.reach, self.clicks,
                                           self.conversions, self.revenue_minor))



class StageChange(db.Model):
    __tablename__ = "stage_changes"
    __table_args__ = (
        # Covering for the dashboard: each cohort deal's furthest stage, and deals opened /
        # moves out of a stage in a range with the time spent there.
        Index("ix_stage_changes_deal_to", "deal_id", "at", "to_stage_id"),
        Index("ix_stage_changes_from_at", "from_stage_id", "at", "deal_id",
              "seconds_in_from_stage"),
        Index("ix_stage_changes_to_at", "to_stage_id", "at"),
        Index("ix_stage_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), nullable=False)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # Seconds the deal spent in from_stage before this move.
    seconds_in_from_stage: Mapped[int | None] = mapped_column(BigInteger)

    from_stage = relationship("Stage", foreign_keys=[from_stage_id])
    to_stage = relationship("Stage", foreign_keys=[to_stage_id])
    actor = relationship("User")
