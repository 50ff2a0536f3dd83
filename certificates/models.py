"""Certificates issued on passing attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

REVOCATION_REASONS = {
    "misconduct": "Misconduct",
    "rescoring": "Result changed on rescoring",
    "issued_in_error": "Issued in error",
}


class Certificate(Base):
    """One certificate per passing attempt; the holder's name as it stood at issue."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    holder_given_name: Mapped[str] = mapped_column(String(100))
    holder_family_name: Mapped[str] = mapped_column(String(100))
    credential: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(100))
    blueprint_code: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str] = mapped_column(String(30), default="")
    revocation_note: Mapped[str] = mapped_column(Text, default="")
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))

    @property
    def holder_name(self) -> str:
        return f"{self.holder_given_name} {self.holder_family_name}"
