"""Campaigns."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import Timestamps
from crm.extensions import db


class Campaign(Timestamps, db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    brand: Mapped[str | None] = mapped_column(String(160))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    budget_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Two people editing one campaign cannot overwrite each other (see campaigns.services).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    owner = relationship("User")
    deals = relationship("Deal", back_populates="campaign", lazy="dynamic")

    __mapper_args__ = {"version_id_col": version}
