"""The DM rollup the dashboard reads instead of the messages (see crm.reports.rollup).

Ids are plain integers, never NULL, so the keys can be primary keys on both databases:
owner -2 stands for "no owner", author and template 0 for "none", and in the per-day rows
owner -1 and platform "" for "everyone's" and "every platform".
"""
from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.ddl import install_after_create
from crm.extensions import db


class DMHourCount(db.Model):
    """Messages per UTC hour and contact owner, platform, direction, author and template."""

    __tablename__ = "dm_hour_counts"

    hour: Mapped[str] = mapped_column(String(13), primary_key=True)   # 'YYYY-MM-DD HH', UTC
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    author_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, nullable=False)
    replied: Mapped[int] = mapped_column(Integer, nullable=False)


class DMDayCount(db.Model):
    """Per local day of one time zone, for each owner slice (one owner or everyone's) and
    platform slice: kind "in"/"out" (key 0), "author" (key = author) and "template"."""

    __tablename__ = "dm_day_counts"
    __table_args__ = (Index("ix_dm_day_counts_tz_day", "tz", "day"),)

    tz: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, nullable=False)
    replied: Mapped[int] = mapped_column(Integer, nullable=False)


class DMDayBuilt(db.Model):
    """The (zone, local day) pairs whose dm_day_counts are complete and current."""

    __tablename__ = "dm_days_built"

    tz: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class DMDirtyHour(db.Model):
    """UTC hours whose messages changed since their dm_hour_counts were computed. Written by
    database triggers; `changes` grows with each change, so a refresh that read the row
    before a later change leaves it dirty."""

    __tablename__ = "dm_dirty_hours"

    hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class ResponseDayCount(db.Model):
    """First responses per UTC day of the burst's start, owner slice (one owner, -1 for
    everyone's, -2 for no owner), platform slice ("" for all), responder (0: none) and bucket
    of response time (crm.reports.response_rollup; -2: not answered)."""

    __tablename__ = "response_day_counts"
    __table_args__ = (
        Index("ix_response_day_counts_day", "day"),
        # The dashboard sums a range of days of one owner and platform slice from this index
        # alone (the primary key's index would send it to the table for every row).
        Index("ix_response_day_counts_read", "owner_id", "platform", "day", "responder_id",
              "bucket", "bursts", "answered"),
    )

    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)       # 'YYYY-MM-DD', UTC
    responder_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bursts: Mapped[int] = mapped_column(Integer, nullable=False)
    answered: Mapped[int] = mapped_column(Integer, nullable=False)


class ResponseChange(db.Model):
    """Changes to the response times not yet added to response_day_counts, logged by
    triggers (crm.reports.response_triggers): +1 for a response time's new key, -1 for its
    old one. The dashboard adds them to the day rows and deletes them before it reads."""

    __tablename__ = "response_changes"

    # SQLite numbers only an INTEGER PRIMARY KEY by itself.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    day: Mapped[str] = mapped_column(String(10), nullable=False)       # 'YYYY-MM-DD', UTC
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)     # -2: no owner
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    responder_id: Mapped[int] = mapped_column(Integer, nullable=False)   # 0: none
    bucket: Mapped[int] = mapped_column(Integer, nullable=False)
    bursts: Mapped[int] = mapped_column(Integer, nullable=False)
    answered: Mapped[int] = mapped_column(Integer, nullable=False)


# Triggers installed when tests or the benchmark create the tables directly (migrations
# install the same statements).
install_after_create(db.metadata, "crm.reports.rollup_triggers",
                     {"messages", "contacts", "conversations", "dm_dirty_hours"})
install_after_create(db.metadata, "crm.reports.response_triggers",
                     {"response_times", "contacts", "conversations", "response_changes"})
