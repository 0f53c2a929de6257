"""A named set of filters of the contacts list, the inbox or the board."""
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import Timestamps
from crm.extensions import db


class SavedView(Timestamps, db.Model):
    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("owner_id", "page", "name", name="uq_saved_views_owner_page_name"),
        Index("ix_saved_views_page_shared", "page", "shared"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    page: Mapped[str] = mapped_column(String(16), nullable=False)     # contacts | inbox | board
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # The filters as the page's own query string (validated by its filter form when saved).
    query: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    owner = relationship("User", lazy="joined")

    __mapper_args__ = {"version_id_col": version}
