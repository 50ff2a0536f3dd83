"""Calibrations of the bank, pretest items and the background candidates chose to give."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime


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
