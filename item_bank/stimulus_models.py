"""Shared stimuli: a case study, passage or exhibit that several items are written on.

A stimulus keeps its text in versions. A version is never edited: an edit makes the next
version, and an item version points at the exact stimulus version it was written and
approved with, so an attempt drawn with it shows the same passage for ever.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from item_bank.media_models import StimulusVersionMedia


class Stimulus(Base):
    """A passage shared by a set of items; its text lives in versions."""

    __tablename__ = "stimulus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every edit: an editor saving against an older revision gets a 409.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    versions: Mapped[list[StimulusVersion]] = relationship(
        back_populates="stimulus", order_by="StimulusVersion.number", lazy="selectin"
    )

    @property
    def current(self) -> StimulusVersion:
        return self.versions[-1]


class StimulusVersion(Base):
    """One version of a stimulus's title, text and exhibits; never changed once written."""

    __tablename__ = "stimulus_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stimulus_id: Mapped[int] = mapped_column(ForeignKey("stimulus.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # The same safe Markdown subset as a stem (item_bank.rendering).
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    stimulus: Mapped[Stimulus] = relationship(back_populates="versions", lazy="joined")
    # Exhibits shown after the passage: images (alt text) or audio (transcript).
    media: Mapped[list[StimulusVersionMedia]] = relationship(
        order_by="StimulusVersionMedia.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (UniqueConstraint("stimulus_id", "number"),)

    @property
    def ref(self) -> str:
        return self.stimulus.ref

    def media_entries(self) -> list[dict[str, str]]:
        """The exhibits as ``StimulusContent.media`` spells them."""
        return [medium.entry() for medium in self.media]
