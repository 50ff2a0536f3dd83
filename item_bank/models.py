"""Frameworks, items and their versions, blueprints and their versions."""

from __future__ import annotations

import enum
import random
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, allowed_values, partial_index
from item_bank.media_models import ItemVersionMedia
from item_bank.stimulus_models import Stimulus as Stimulus
from item_bank.stimulus_models import StimulusVersion as StimulusVersion


class ItemStatus(enum.StrEnum):
    """Where an item version stands in the review workflow."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    RETIRED = "retired"
    SUPERSEDED = "superseded"


class ItemType(enum.StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_RESPONSE = "multiple_response"
    TRUE_FALSE = "true_false"


class CognitiveLevel(enum.StrEnum):
    RECALL = "recall"
    APPLICATION = "application"
    ANALYSIS = "analysis"


class NodeKind(enum.StrEnum):
    PART = "part"
    SECTION = "section"
    AREA = "area"
    COMPETENCY = "competency"


class ReviewAction(enum.StrEnum):
    """A step of the item review workflow (also the action kept on a comment)."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    RETURN = "return"
    RETIRE = "retire"


def code_under(code: str, prefix: str) -> bool:
    """Whether framework code ``code`` is ``prefix`` or lies below it (``CU.SK.COMM.01``
    lies under ``CU.SK``; ``CU.SKX`` does not)."""
    return code == prefix or code.startswith(prefix + ".")


class Framework(Base):
    """A competency framework (a credential's standard), loaded from a data file."""

    __tablename__ = "framework"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    publisher: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Proficiency levels, lowest first: [{"code", "title", "order"}]; none for one-level.
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    nodes: Mapped[list[FrameworkNode]] = relationship(
        back_populates="framework", order_by="FrameworkNode.position"
    )


class FrameworkNode(Base):
    """A part, section, area or leaf competency. A child's code extends its parent's code,
    so ``CU.SK.COMM.01`` lies under ``CU.SK.COMM``, ``CU.SK`` and ``CU``."""

    __tablename__ = "framework_node"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("framework_node.id"))
    code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)
    # A code dropped from the file is kept, retired: codes are never reused.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # What each proficiency level expects of a competency: {level code: text}.
    expects: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    framework: Mapped[Framework] = relationship(back_populates="nodes")

    __table_args__ = (
        UniqueConstraint("framework_id", "code"),
        allowed_values("kind", NodeKind),
    )

    @property
    def label(self) -> str:
        return self.title or self.text


class Item(Base):
    """An exam question; its content lives in versions."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every edit, new version and transition: an editor or API client that
    # saves against an older revision gets a 409 instead of overwriting someone's work.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", order_by="ItemVersion.number"
    )

    @property
    def head(self) -> ItemVersion:
        return self.versions[-1]

    @property
    def live(self) -> ItemVersion | None:
        return next((v for v in self.versions if v.status == ItemStatus.APPROVED), None)


class ItemVersion(Base):
    """One version of an item. Only a draft is edited in place; anything that may have
    been used (approved, retired, superseded) never changes."""

    __tablename__ = "item_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    type: Mapped[str] = mapped_column(String(30))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    keys: Mapped[list[str]] = mapped_column(JSON)
    # Multiple response: how many to pick; 0 is "any number" (QTI's maxChoices="0").
    choose: Mapped[int | None] = mapped_column(Integer)
    # Whether the options are shuffled per candidate, and the letters that keep their
    # place when they are (QTI's choiceInteraction@shuffle and simpleChoice@fixed).
    shuffle: Mapped[bool] = mapped_column(Boolean, default=True)
    fixed: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A name for staff (QTI's assessmentItem@label); never shown to candidates.
    label: Mapped[str] = mapped_column(String(256), default="")
    rationale: Mapped[str] = mapped_column(Text)
    references: Mapped[list[str]] = mapped_column(JSON)
    cognitive_level: Mapped[str] = mapped_column(String(20))
    # Copy of the primary competency's code: blueprint areas are code prefixes.
    primary_code: Mapped[str] = mapped_column(String(60), index=True)
    # A random number fixed at creation: form assembly samples large banks by it.
    draw_key: Mapped[float] = mapped_column(Float, default=random.random)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Everyone who wrote into this version; none of them may approve it.
    contributor_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The shared passage this version is written on (item_bank.stimulus_models), and its
    # place in the set of items on that passage.
    stimulus_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("stimulus_version.id"), index=True
    )
    stimulus_position: Mapped[int | None] = mapped_column(Integer)

    item: Mapped[Item] = relationship(back_populates="versions")
    stimulus_version: Mapped[StimulusVersion | None] = relationship(lazy="selectin")
    competency_links: Mapped[list[ItemVersionCompetency]] = relationship(
        back_populates="version",
        order_by="ItemVersionCompetency.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    media: Mapped[list[ItemVersionMedia]] = relationship(
        order_by="ItemVersionMedia.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("item_id", "number"),
        Index("ix_item_version_draw", "status", "primary_code", "draw_key"),
        # At most one approved (live) version per item, enforced by the database.
        partial_index(
            "uq_item_version_one_approved",
            "item_id",
            where=f"status = '{ItemStatus.APPROVED}'",
            unique=True,
        ),
        allowed_values("status", ItemStatus),
        allowed_values("type", ItemType),
        allowed_values("cognitive_level", CognitiveLevel),
    )

    @property
    def competency_codes(self) -> list[str]:
        return [link.node.code for link in self.competency_links]

    def content(self) -> dict[str, Any]:
        media = {"media": [m.entry() for m in self.media]} if self.media else {}
        return {
            "type": self.type,
            "stem": self.stem,
            "options": list(self.options),
            "keys": list(self.keys),
            "choose": self.choose,
            "shuffle": self.shuffle,
            "fixed": list(self.fixed),
            "label": self.label,
            "rationale": self.rationale,
            "references": list(self.references),
            "competencies": self.competency_codes,
            "cognitive_level": self.cognitive_level,
            "stimulus": self.stimulus_link(),
            **media,
        }

    def stimulus_link(self) -> dict[str, Any] | None:
        """The shared passage as the exchange record carries it: ref, place, exact text."""
        shown = self.stimulus_version
        if shown is None:
            return None
        return {
            "ref": shown.ref,
            "position": self.stimulus_position,
            "title": shown.title,
            "body": shown.body,
            **({"media": shown.media_entries()} if shown.media else {}),
        }


class ItemVersionCompetency(Base):
    __tablename__ = "item_version_competency"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("item_version.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[int] = mapped_column(
        ForeignKey("framework_node.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    version: Mapped[ItemVersion] = relationship(back_populates="competency_links")
    node: Mapped[FrameworkNode] = relationship(lazy="joined")


class ItemEnemy(Base):
    """Two items that must never appear on the same form (stored once, lower id first)."""

    __tablename__ = "item_enemy"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    enemy_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True, index=True)

    __table_args__ = (CheckConstraint("item_id < enemy_id", name="ordered"),)


class ItemComment(Base):
    """A comment on an item, usually with a review action."""

    __tablename__ = "item_comment"
    __table_args__ = (allowed_values("action", ReviewAction),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Blueprint(Base):
    """A test blueprint (e.g. ``first-level``); its rules live in versions."""

    __tablename__ = "blueprint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[BlueprintVersion]] = relationship(
        back_populates="blueprint", order_by="BlueprintVersion.number", lazy="selectin"
    )

    @property
    def current(self) -> BlueprintVersion:
        return self.versions[-1]


class BlueprintVersion(Base):
    """One version of a blueprint's rules; never edited once created."""

    __tablename__ = "blueprint_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    blueprint: Mapped[Blueprint] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("blueprint_id", "number"),)
