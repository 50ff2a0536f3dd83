"""A modified-Angoff standard setting: the study on one form of a blueprint and the experts'
ratings of its items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AngoffStudy(Base):
    """A modified-Angoff standard setting on one form of a blueprint."""

    __tablename__ = "angoff_study"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blueprint_version_id: Mapped[int] = mapped_column(ForeignKey("blueprint_version.id"))
    title: Mapped[str] = mapped_column(String(200))
    item_version_ids: Mapped[list[int]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    adopted_version_id: Mapped[int | None] = mapped_column(ForeignKey("blueprint_version.id"))


class AngoffRating(Base):
    """One expert's estimate that a minimally competent candidate answers one item (0-100)."""

    __tablename__ = "angoff_rating"

    study_id: Mapped[int] = mapped_column(ForeignKey("angoff_study.id"), primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"), primary_key=True)
    rating: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)
