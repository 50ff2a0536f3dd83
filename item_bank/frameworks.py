"""Loading competency frameworks from data files, and reading them back as a tree."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.api import field_errors
from core.errors import FieldError, Problem
from item_bank.models import Framework, FrameworkNode, NodeKind, code_under
from item_bank.schemas import Code

FRAMEWORKS_DIR = Path(__file__).resolve().parent / "frameworks"
DEFAULT_FRAMEWORK = "csa-first-level"


class LeafFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    text: str = Field(min_length=1, max_length=2000)
    expects: dict[str, str] = Field(
        default_factory=dict, description="What each proficiency level expects, by level code."
    )


class LevelFile(BaseModel):
    """A proficiency level of the framework (Contributor, Leader...)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9]{1,20}$")
    title: str = Field(min_length=1, max_length=200)
    order: int = Field(ge=1, le=100, description="1 for the first level.")


class AreaFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9]{1,20}$")
    title: str = Field(min_length=1, max_length=300)
    competencies: list[LeafFile] = Field(min_length=1)


class SectionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9]{1,20}$")
    title: str = Field(min_length=1, max_length=300)
    areas: list[AreaFile] = Field(min_length=1)


class PartFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9]{1,20}$")
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    sections: list[SectionFile] = Field(min_length=1)


class FrameworkFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9-]{1,60}$")
    title: str = Field(min_length=1, max_length=200)
    publisher: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=40)
    description: str = ""
    levels: list[LevelFile] = Field(default_factory=list, max_length=20)
    parts: list[PartFile] = Field(min_length=1)


@dataclass
class FlatNode:
    code: str
    kind: NodeKind
    title: str
    text: str
    description: str
    parent_code: str | None
    position: int
    expects: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadSummary:
    framework: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0


def read_framework_file(path: Path) -> FrameworkFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Problem(400, "Unreadable framework file", f"{path}: {exc}") from exc
    try:
        return FrameworkFile.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise Problem(422, "Invalid framework file", str(path), errors=errors) from exc


def flatten(document: FrameworkFile) -> list[FlatNode]:
    """The tree as rows, parents first; a child's code must extend its parent's."""
    nodes: list[FlatNode] = []
    errors: list[FieldError] = []
    for part in document.parts:
        nodes.append(
            FlatNode(part.code, NodeKind.PART, part.title, "", part.description, None, len(nodes))
        )
        for section in part.sections:
            section_code = f"{part.code}.{section.code}"
            nodes.append(
                FlatNode(
                    section_code, NodeKind.SECTION, section.title, "", "", part.code, len(nodes)
                )
            )
            for area in section.areas:
                area_code = f"{section_code}.{area.code}"
                nodes.append(
                    FlatNode(area_code, NodeKind.AREA, area.title, "", "", section_code, len(nodes))
                )
                for leaf in area.competencies:
                    if leaf.code == area_code or not code_under(leaf.code, area_code):
                        errors.append(
                            FieldError(
                                leaf.code,
                                f"A competency of {area_code} must be coded {area_code}.NN.",
                            )
                        )
                    nodes.append(
                        FlatNode(
                            leaf.code,
                            NodeKind.COMPETENCY,
                            "",
                            leaf.text,
                            "",
                            area_code,
                            len(nodes),
                            leaf.expects,
                        )
                    )
    codes = [node.code for node in nodes]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    errors.extend(FieldError(code, "This code appears twice.") for code in duplicates)
    errors.extend(_level_errors(document, nodes))
    if errors:
        raise Problem(
            422, "Invalid framework file", "Codes must be unique and nested.", errors=errors
        )
    return nodes


def _level_errors(document: FrameworkFile, nodes: list[FlatNode]) -> list[FieldError]:
    """Levels have distinct codes and places; a competency expects only of a level there is."""
    errors = []
    codes = [level.code for level in document.levels]
    orders = [level.order for level in document.levels]
    if len(set(codes)) != len(codes):
        errors.append(FieldError("levels", "A level code appears twice."))
    if len(set(orders)) != len(orders):
        errors.append(FieldError("levels", "Two levels share a place in the order."))
    for node in nodes:
        errors.extend(
            FieldError(f"{node.code}.expects.{code}", f"The framework defines no level {code}.")
            for code in node.expects
            if code not in codes
        )
    return errors


def load_framework(
    session: Session, document: FrameworkFile, actor_label: str = "cli"
) -> LoadSummary:
    """Create or update a framework idempotently. A code keeps its kind and its parent for
    ever; codes missing from the file are retired, never deleted or reused."""
    flat = flatten(document)
    framework = session.scalars(
        select(Framework).where(Framework.code == document.code)
    ).one_or_none()
    if framework is None:
        framework = Framework(code=document.code, loaded_at=clock.now())
        session.add(framework)
    framework.title, framework.publisher = document.title, document.publisher
    framework.version, framework.description = document.version, document.description
    levels = [level.model_dump() for level in sorted(document.levels, key=lambda lv: lv.order)]
    levels_changed = (framework.levels or []) != levels
    framework.levels = levels
    session.flush()
    existing = {
        node.code: node
        for node in session.scalars(
            select(FrameworkNode).where(FrameworkNode.framework_id == framework.id)
        )
    }
    _refuse_reuse(existing, flat)
    summary = LoadSummary(framework=document.code)
    by_code: dict[str, FrameworkNode] = {}
    for row in flat:
        node = existing.get(row.code)
        parent = by_code[row.parent_code] if row.parent_code else None
        if node is None:
            node = FrameworkNode(framework_id=framework.id, code=row.code, kind=row.kind)
            session.add(node)
            summary.added.append(row.code)
        elif (node.title, node.text, node.description, node.expects or {}, node.retired) != (
            row.title,
            row.text,
            row.description,
            row.expects,
            False,
        ):
            summary.changed.append(row.code)
        else:
            summary.unchanged += 1
        node.title, node.text, node.description = row.title, row.text, row.description
        node.expects = row.expects
        node.position, node.retired = row.position, False
        node.parent_id = parent.id if parent else None
        session.flush()
        by_code[row.code] = node
    dropped = [code for code, node in existing.items() if code not in by_code and not node.retired]
    _refuse_retiring_blueprint_areas(session, framework.id, dropped)
    for code in dropped:
        existing[code].retired = True
        summary.retired.append(code)
    framework.loaded_at = clock.now()
    if summary.added or summary.changed or summary.retired or levels_changed:
        audit.record(
            session,
            actor_id=None,
            actor_label=actor_label,
            action="framework.loaded",
            object_type="framework",
            object_id=framework.code,
            after={
                "version": document.version,
                "added": len(summary.added),
                "changed": summary.changed[:50],
                "retired": summary.retired,
                "levels": [level["code"] for level in levels],
            },
        )
    session.commit()
    return summary


def _refuse_reuse(existing: dict[str, FrameworkNode], flat: list[FlatNode]) -> None:
    parents = {node.id: node.code for node in existing.values()}
    errors = []
    for row in flat:
        node = existing.get(row.code)
        if node is None:
            continue
        if node.retired and (node.title, node.text) != (row.title, row.text):
            errors.append(
                FieldError(row.code, "This code was retired; a new competency needs a new code.")
            )
        if node.kind != row.kind:
            errors.append(
                FieldError(row.code, f"Was a {node.kind}; a code is never reused as a {row.kind}.")
            )
        old_parent = parents.get(node.parent_id) if node.parent_id else None
        if old_parent != row.parent_code:
            errors.append(FieldError(row.code, f"Was under {old_parent}; a code never moves."))
    if errors:
        raise Problem(
            409,
            "Framework codes would be reused",
            "Give new competencies new codes.",
            errors=errors,
        )


def _refuse_retiring_blueprint_areas(
    session: Session, framework_id: int, dropped: list[str]
) -> None:
    from item_bank.models import Blueprint

    used = {
        area["code"]
        for blueprint in session.scalars(
            select(Blueprint).where(Blueprint.framework_id == framework_id)
        )
        for area in blueprint.current.spec["areas"]
    }
    clash = sorted(used & set(dropped))
    if clash:
        raise Problem(
            409,
            "Framework codes are in use",
            "A blueprint's areas cannot be dropped; edit the blueprint first.",
            errors=[FieldError(code, "Used as a blueprint area.") for code in clash],
        )


def load_framework_file(session: Session, path: Path, actor_label: str = "cli") -> LoadSummary:
    return load_framework(session, read_framework_file(path), actor_label)


# ---- reading -------------------------------------------------------------------------


def get_framework(session: Session, code: str = DEFAULT_FRAMEWORK) -> Framework | None:
    return session.scalars(select(Framework).where(Framework.code == code)).one_or_none()


def require_framework(session: Session, code: str) -> Framework:
    framework = get_framework(session, code)
    if framework is None:
        raise Problem(
            404, "No such framework", f"No framework {code}; load it with `flask framework load`."
        )
    return framework


def list_frameworks(session: Session) -> list[Framework]:
    return list(session.scalars(select(Framework).order_by(Framework.code)))


def nodes_by_code(
    session: Session, framework_id: int, include_retired: bool = False
) -> dict[str, FrameworkNode]:
    query = select(FrameworkNode).where(FrameworkNode.framework_id == framework_id)
    if not include_retired:
        query = query.where(FrameworkNode.retired.is_(False))
    return {node.code: node for node in session.scalars(query)}


def framework_tree(session: Session, framework: Framework) -> dict[str, Any]:
    """The framework as nested dicts: parts > sections > areas > competencies."""
    nodes = sorted(nodes_by_code(session, framework.id).values(), key=lambda n: n.position)
    children: dict[int | None, list[FrameworkNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def build(node: FrameworkNode) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": node.code, "kind": node.kind}
        if node.kind == NodeKind.COMPETENCY:
            entry["text"] = node.text
            if node.expects:
                entry["expects"] = node.expects
        else:
            entry["title"] = node.title
            if node.description:
                entry["description"] = node.description
            entry["children"] = [build(child) for child in children.get(node.id, [])]
        return entry

    tree: dict[str, Any] = {
        "code": framework.code,
        "title": framework.title,
        "publisher": framework.publisher,
        "version": framework.version,
        "description": framework.description,
    }
    if framework.levels:
        tree["levels"] = framework.levels
    return {**tree, "parts": [build(part) for part in children.get(None, [])]}


def level_codes(framework: Framework) -> list[str]:
    return [level["code"] for level in framework.levels or []]
