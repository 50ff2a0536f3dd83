"""Calibrations of the bank, items on trial (pretest), and the background candidates chose
to give (for DIF)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, allowed_values


class CalibrationRun(Base):
    """One Rasch calibration of a blueprint's scored responses (or one sitting's)."""

    __tablename__ = "calibration_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"), index=True)
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("sitting.id"))
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    persons: Mapped[int] = mapped_column(Integer)
    responses: Mapped[int] = mapped_column(Integer)
    population_mean: Mapped[float] = mapped_column(Float)
    population_sd: Mapped[float] = mapped_column(Float)
    log_likelihood: Mapped[float] = mapped_column(Float)
    converged: Mapped[bool] = mapped_column(Boolean)
    seconds: Mapped[float] = mapped_column(Float)
    # The persons' measures in bands of 0.25 logits: [[lower bound, count], ...].
    person_bands: Mapped[list[list[float]]] = mapped_column(JSON)
    # Items left out (everyone right or wrong, say), with the reason: [[ref, why], ...].
    left_out: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # The drawn forms' expected scores at the cut (rasch.FormSpread's fields), and the same
    # per blueprint version under "by_version" (with each version's goal for it).
    form_spread: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    items: Mapped[list[ItemCalibration]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemCalibration.difficulty"
    )


class ItemCalibration(Base):
    """One item version's difficulty and fit in one calibration."""

    __tablename__ = "item_calibration"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_run.id", ondelete="CASCADE"), primary_key=True
    )
    item_version_id: Mapped[int] = mapped_column(
        ForeignKey("item_version.id"), primary_key=True, index=True
    )
    n: Mapped[int] = mapped_column(Integer)
    p_value: Mapped[float] = mapped_column(Float)
    difficulty: Mapped[float] = mapped_column(Float)
    se: Mapped[float] = mapped_column(Float)
    infit: Mapped[float] = mapped_column(Float)
    outfit: Mapped[float] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


class FirstLanguage(StrEnum):
    ENGLISH = "english"
    OTHER = "other"


class Region(StrEnum):
    AFRICA = "africa"
    ASIA_PACIFIC = "asia_pacific"
    EUROPE = "europe"
    LATIN_AMERICA = "latin_america"
    MIDDLE_EAST = "middle_east"
    NORTH_AMERICA = "north_america"


class CandidateBackground(Base):
    """What a candidate chose to tell, with consent, so questions can be checked for
    fairness between groups. Only the answers given are kept (blank: not said), with
    when consent was given; withdrawing consent deletes the row."""

    __tablename__ = "candidate_background"
    __table_args__ = (
        allowed_values("first_language", FirstLanguage, blank=True),
        allowed_values("region", Region, blank=True),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    first_language: Mapped[str] = mapped_column(String(20), default="")
    region: Mapped[str] = mapped_column(String(20), default="")
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PretestStatus(StrEnum):
    PRETEST = "pretest"  # drawn unscored onto forms, collecting statistics
    PROMOTED = "promoted"  # scored from now on, like any approved item
    DROPPED = "dropped"  # tried and not kept: drawn neither scored nor unscored


class PretestItem(Base):
    """An approved item on trial for a blueprint: seeded unscored onto its forms until an
    exam administrator promotes it to scored or drops it."""

    __tablename__ = "pretest_item"
    __table_args__ = (allowed_values("status", PretestStatus),)

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=PretestStatus.PRETEST)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
