"""Programmes (certification schemes) and their versions, loaded from data files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from item_bank.models import Framework


class Programme(Base):
    """A credential on offer (e.g. ``first-level``); its rules live in versions."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    framework: Mapped[Framework] = relationship()
    versions: Mapped[list[ProgrammeVersion]] = relationship(
        back_populates="programme", order_by="ProgrammeVersion.number", lazy="selectin"
    )

    @property
    def current(self) -> ProgrammeVersion:
        return self.versions[-1]


class ProgrammeVersion(Base):
    """One version of a programme's rules; a changed file makes a new one, never an edit."""

    __tablename__ = "programme_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    programme: Mapped[Programme] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("programme_id", "number"),)
