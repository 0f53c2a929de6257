"""The DM counts the dashboard reads instead of the messages, kept by the services that
write the messages (crm.contacts.dm_counts).

Ids are plain integers, never NULL, so the keys can be primary keys on both databases:
owner -2 stands for "no owner", author, template and responder 0 for "none", and in the
per-day response rows owner -1 and platform "" for "everyone's" and "every platform".
"""
from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class DMHourCount(db.Model):
    """Messages per UTC hour and contact owner, platform, direction, author and template, and
    how many of them were replied to. The dashboard sums a range of hours, everyone's from
    the primary key (on SQLite the table itself, WITHOUT ROWID), one owner's from
    ix_dm_hour_counts_owner; both hold every column it reads."""

    __tablename__ = "dm_hour_counts"
    __table_args__ = (
        Index("ix_dm_hour_counts_owner", "owner_id", "hour", "direction", "platform",
              "author_id", "template_id", "messages", "replied"),
        {"sqlite_with_rowid": False},
    )

    hour: Mapped[str] = mapped_column(String(13), primary_key=True)   # 'YYYY-MM-DD HH', UTC
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    author_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, nullable=False)
    replied: Mapped[int] = mapped_column(Integer, nullable=False)


class DMHourTotal(db.Model):
    """Everyone's messages per UTC hour, platform and direction (dm_hour_counts without the
    owner, author and template): everyone's trend reads a range of these, a few rows an hour."""

    __tablename__ = "dm_hour_totals"
    __table_args__ = ({"sqlite_with_rowid": False},)

    hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, nullable=False)
    replied: Mapped[int] = mapped_column(Integer, nullable=False)


class SentDayTotal(db.Model):
    """Everyone's DMs sent per UTC day, platform, author and template: everyone's DMs per rep,
    platform and template read the range's whole UTC days here and its edge hours from
    dm_hour_counts."""

    __tablename__ = "sent_day_totals"
    __table_args__ = ({"sqlite_with_rowid": False},)

    day: Mapped[str] = mapped_column(String(10), primary_key=True)      # 'YYYY-MM-DD', UTC
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    author_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    messages: Mapped[int] = mapped_column(Integer, nullable=False)
    replied: Mapped[int] = mapped_column(Integer, nullable=False)


class ResponseDayCount(db.Model):
    """First responses per UTC day of the burst's start, owner slice (one owner, -1 for
    everyone's, -2 for no owner), platform slice ("" for all), responder (0: none) and bucket
    of response time (crm.contacts.dm_counts.bucket_of; -2: not answered)."""

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
