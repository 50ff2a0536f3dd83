"""A sitting's Safe Exam Browser requirement: the keys its requests are checked against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class SittingSeb(Base):
    """One row per sitting that has ever been given SEB settings by staff.

    ``config_key`` is a secret like a password: with it anyone can forge the header,
    so it is never shown in full, nor written to the audit log.
    """

    __tablename__ = "sitting_seb"

    sitting_id: Mapped[int] = mapped_column(
        ForeignKey("sitting.id", ondelete="CASCADE"), primary_key=True
    )
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    config_key: Mapped[str] = mapped_column(String(64), default="")
    browser_exam_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The uploaded .seb file, offered to the sitting's candidates; kept in the database
    # so every app server serves the same one.
    config_file: Mapped[bytes | None] = mapped_column(LargeBinary)
    config_filename: Mapped[str] = mapped_column(String(150), default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
