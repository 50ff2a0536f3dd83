"""Media of items and scenarios: files stored once by content, and the media an item
version or a scenario version shows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from core.db import Base, UTCDateTime, allowed_values


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


class MediaFile(Base):
    """One file, named by the SHA-256 of its bytes: the same file is stored once, and what
    a version points at can never change under it."""

    __tablename__ = "media_file"
    __table_args__ = (allowed_values("kind", MediaKind),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class _ShownMedium:
    """A file as a version shows it: its place, its alt text (an image's) and its
    transcript or description (audio's), and what a page needs to show it."""

    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("media_file.sha256"), index=True)
    alt: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")

    @declared_attr
    def file(cls) -> Mapped[MediaFile]:
        return relationship(MediaFile, lazy="joined")

    @property
    def kind(self) -> str:
        return self.file.kind

    @property
    def content_type(self) -> str:
        return self.file.content_type

    @property
    def width(self) -> int | None:
        return self.file.width

    @property
    def height(self) -> int | None:
        return self.file.height

    def entry(self) -> dict[str, str]:
        """As the exchange record and ``ItemContent.media`` spell it."""
        return {"sha256": self.sha256, "alt": self.alt, "transcript": self.transcript}


class ItemVersionMedia(_ShownMedium, Base):
    """A medium as one item version shows it. Part of the version: a change is a new
    version."""

    __tablename__ = "item_version_media"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("item_version.id", ondelete="CASCADE"), primary_key=True
    )


class StimulusVersionMedia(_ShownMedium, Base):
    """An exhibit (image, chart) as one scenario version shows it, after its passage, to
    every item on that version. Part of the version: a changed file or alt text is a new
    scenario version, so what a drawn form showed never changes."""

    __tablename__ = "stimulus_version_media"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("stimulus_version.id", ondelete="CASCADE"), primary_key=True
    )
