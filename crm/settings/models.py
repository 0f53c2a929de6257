"""Key/value settings with typed defaults."""
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON, nullable=True)
