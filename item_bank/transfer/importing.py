"""Writing an import: everything in one transaction, or nothing. New items are written
in bulk; changed ones become new versions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import Base
from core.errors import Problem
from item_bank import services
from item_bank.frameworks import nodes_by_code
from item_bank.media_models import ItemVersionMedia
from item_bank.models import (
    Framework,
    Item,
    ItemEnemy,
    ItemStatus,
    ItemVersion,
    ItemVersionCompetency,
)
from item_bank.schemas import ItemRecord
from item_bank.services import stimuli
from item_bank.transfer import stimulus_records
from item_bank.transfer.json_csv import KEPT_WHEN_ABSENT, parse_csv_records, parse_json_records
from item_bank.transfer.qti import UNSUPPORTED_KEY, Upload, parse_qti
from item_bank.transfer.qti_media import store_import_media
from item_bank.transfer.records import (
    ImportRefused,
    ImportSummary,
    ItemOutcome,
    RecordError,
    RefusedItem,
    item_content,
    version_content,
)
from item_bank.transfer.validation import source_of, validate_records


def parse_upload(
    filename: str, data: bytes, progress: Callable[[int], None] | None = None
) -> Upload:
    """The records of an uploaded file, by its extension: JSON, CSV or QTI (.xml, .zip)."""
    name = filename.lower()
    if name.endswith(".json"):
        return Upload(parse_json_records(data))
    if name.endswith(".csv"):
        return Upload(parse_csv_records(data))
    if name.endswith((".xml", ".zip")):
        return parse_qti(data, filename, progress)
    raise Problem(415, "Unsupported file", "Import .json, .csv, or QTI 2.1/2.2 .xml / .zip files.")


@dataclass
class ImportPlan:
    fresh: list[ItemRecord] = field(default_factory=list)
    changed: list[ItemRecord] = field(default_factory=list)
    unchanged: int = 0
    outcomes: list[ItemOutcome] = field(default_factory=list)
    keep_enemies: set[str] = field(default_factory=set)  # refs whose file says nothing of them


def _meta(raw_records: list[Any], number: int, key: str) -> Any:
    raw = raw_records[number - 1]
    return raw.get(key) if isinstance(raw, dict) else None


def _plan(
    session: Session,
    numbered: list[tuple[int, ItemRecord]],
    existing: dict[str, Item],
    raw_records: list[Any],
) -> tuple[ImportPlan, list[RecordError]]:
    plan, errors = ImportPlan(), []
    for number, record in numbered:
        item = existing.get(record.ref)
        outcome = "new"
        keep_enemies = bool(_meta(raw_records, number, "_keep_enemies"))
        if keep_enemies:
            plan.keep_enemies.add(record.ref)
        if item is None:
            plan.fresh.append(record)
        else:
            content = item_content(record)
            same_enemies = keep_enemies or set(services.enemy_refs(session, item.id)) == set(
                record.enemies
            )
            if stimulus_records.same_content(item.head, version_content(content), content) and (
                same_enemies
            ):
                plan.unchanged += 1
                outcome = "unchanged"
            elif item.head.status == "in_review":
                outcome = ""
                errors.append(
                    RecordError(
                        number,
                        record.ref,
                        "ref",
                        "This item is being reviewed; "
                        "it cannot be replaced by an import until the review ends.",
                    )
                )
            else:
                plan.changed.append(record)
                outcome = f"new version {item.head.number + 1} (was {item.head.number})"
        if outcome:
            plan.outcomes.append(
                ItemOutcome(
                    record.ref,
                    outcome,
                    source_of(raw_records, number),
                    tuple(_meta(raw_records, number, "_notes") or ()),
                )
            )
    return plan, errors


def _keep_what_the_file_leaves_out(session: Session, raw_records: list[Any]) -> None:
    """A record marked to keep its media or scenario (a CSV without those columns) takes
    them from the item's current version, and the report says so."""
    kept = {
        name: marker
        for name, marker in KEPT_WHEN_ABSENT.items()
        if any(isinstance(raw, dict) and raw.get(marker) for raw in raw_records)
    }
    if not kept:
        return
    refs = [raw.get("ref") for raw in raw_records if isinstance(raw, dict)]
    heads = {
        item.ref: item.head
        for item in session.scalars(select(Item).where(Item.ref.in_([r for r in refs if r])))
    }
    for raw in raw_records:
        head = heads.get(str(raw.get("ref"))) if isinstance(raw, dict) else None
        if head is None:
            continue
        current = head.content()
        for name, marker in kept.items():
            if raw.pop(marker, False) and current.get(name):
                raw[name] = current[name]
                note = f"{name} kept from version {head.number}: the file has no {name} column"
                raw["_notes"] = [*raw.get("_notes", []), note]


def _take_unsupported(raw_records: list[Any]) -> tuple[list[Any], list[RefusedItem]]:
    """The records to import, and the items left out because the bank has no type for
    their interaction (the rest of the package is imported without them)."""
    kept, refused = [], []
    for raw in raw_records:
        if isinstance(raw, dict) and raw.get(UNSUPPORTED_KEY):
            refused.append(
                RefusedItem(str(raw.get("_source", "")), str(raw.get("ref", "")), raw["_error"])
            )
        else:
            kept.append(raw)
    return kept, refused


def import_items(
    session: Session,
    framework: Framework,
    raw_records: list[Any],
    *,
    status: str = "draft",
    actor_id: int | None,
    actor_label: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    default_competency: str | None = None,
    skipped: Sequence[str] = (),
) -> ImportSummary:
    """Validate everything, then write everything in one transaction, or nothing.

    A dry run goes through every check the real import makes and reports the same counts
    and the same report. ``skipped`` are the package's resources that are not items. An
    item whose interaction the bank has no type for is reported refused and left out;
    any other problem in any record refuses the whole import.
    """
    total = len(raw_records)
    raw_records, refused = _take_unsupported(raw_records)
    _keep_what_the_file_leaves_out(session, raw_records)
    numbered, errors = validate_records(session, framework, raw_records, default_competency)
    refs = [record.ref for _, record in numbered]
    existing = (
        {item.ref: item for item in session.scalars(select(Item).where(Item.ref.in_(refs)))}
        if refs
        else {}
    )
    plan, conflicts = _plan(session, numbered, existing, raw_records)
    conflicts += stimulus_records.link_errors(session, framework, numbered)
    conflicts = [replace(c, source=source_of(raw_records, c.record)) for c in conflicts]
    summary = ImportSummary(
        total=total,
        errors=sorted(errors + conflicts, key=lambda e: e.record),
        dry_run=dry_run,
        created=len(plan.fresh),
        new_versions=len(plan.changed),
        unchanged=plan.unchanged,
        items=plan.outcomes,
        skipped=list(skipped),
        refused=refused,
        scenarios=stimulus_records.planned_scenarios(session, [r for _, r in numbered]),
    )
    if summary.errors:
        raise ImportRefused(summary)
    if dry_run:
        return summary
    nodes = {code: node.id for code, node in nodes_by_code(session, framework.id).items()}
    store_import_media(session, raw_records)
    placed = stimulus_records.bulk_links(session, framework, plan.fresh, actor_id, actor_label)
    ids = _bulk_create(session, framework, plan.fresh, nodes, status, actor_id, progress, placed)
    _update_existing(session, framework, plan, existing, actor_id, actor_label, status)
    enemy_refs = {enemy for record in plan.fresh for enemy in record.enemies}
    bank_ids = dict(
        session.execute(select(Item.ref, Item.id).where(Item.ref.in_(enemy_refs))).all()
    )
    _bulk_enemies(session, plan.fresh, {**bank_ids, **ids})
    _audit_created(session, ids, status, actor_id, actor_label)
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="item.imported",
        object_type="framework",
        object_id=framework.code,
        after={
            "created": summary.created,
            "new_versions": summary.new_versions,
            "unchanged": summary.unchanged,
            "status": status,
            **({"refused": [r.as_dict() for r in refused]} if refused else {}),
        },
    )
    session.commit()
    return summary


def _audit_created(
    session: Session, ids: dict[str, int], status: str, actor_id: int | None, actor_label: str
) -> None:
    audit.record_many(
        session,
        [
            {
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": "item.created",
                "object_type": "item",
                "object_id": item_id,
                "after": {"ref": ref, "version": 1, "status": status, "source": "import"},
            }
            for ref, item_id in ids.items()
        ],
    )


def _chunks(rows: list[Any], size: int = 2000) -> Iterable[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _version_row(
    record: ItemRecord, item_id: int, status: str, actor_id: int | None, now: datetime
) -> dict[str, Any]:
    content = version_content(record)
    codes = content.pop("competencies")
    content.pop("media", None)  # rows of their own
    return {
        "item_id": item_id,
        "number": 1,
        "status": status,
        **content,
        "primary_code": codes[0],
        "draw_key": random.random(),  # noqa: S311  (sampling, not secrecy)
        "author_id": actor_id,
        "contributor_ids": [actor_id] if actor_id else [],
        "created_at": now,
        "submitted_at": now if status != "draft" else None,
        "approved_at": now if status == "approved" else None,
        # Approved elsewhere before the import: nobody here approved it.
        "approved_by": None,
    }


def _bulk_create(
    session: Session,
    framework: Framework,
    records: list[ItemRecord],
    nodes: dict[str, int],
    status: str,
    actor_id: int | None,
    progress: Callable[[int], None] | None,
    on_stimuli: dict[str, tuple[int, int]],
) -> dict[str, int]:
    now = clock.now()
    ids: dict[str, int] = {}
    for chunk in _chunks(records):
        item_rows = [
            {
                "ref": r.ref,
                "framework_id": framework.id,
                "created_by": actor_id,
                "created_at": now,
                "revision": 1,
            }
            for r in chunk
        ]
        # Plain executemany, then one read of the new ids: RETURNING across many
        # batches costs more than the insert itself.
        refs = [r.ref for r in chunk]
        session.execute(insert(_table(Item)), item_rows)
        ids.update(session.execute(select(Item.ref, Item.id).where(Item.ref.in_(refs))).all())
        version_rows = [_version_row(r, ids[r.ref], status, actor_id, now) for r in chunk]
        for row, record in zip(version_rows, chunk, strict=True):
            placed = on_stimuli.get(record.ref)
            row["stimulus_version_id"], row["stimulus_position"] = placed or (None, None)
        session.execute(insert(_table(ItemVersion)), version_rows)
        chunk_ids = [ids[ref] for ref in refs]
        version_ids = dict(
            session.execute(
                select(ItemVersion.item_id, ItemVersion.id).where(
                    ItemVersion.item_id.in_(chunk_ids)
                )
            ).all()
        )
        links = [
            {"version_id": version_ids[ids[r.ref]], "node_id": nodes[code], "position": position}
            for r in chunk
            for position, code in enumerate(r.competencies)
        ]
        session.execute(insert(_table(ItemVersionCompetency)), links)
        media = [
            {"version_id": version_ids[ids[r.ref]], "position": position, **medium.model_dump()}
            for r in chunk
            for position, medium in enumerate(r.media)
        ]
        if media:
            session.execute(insert(_table(ItemVersionMedia)), media)
        if progress:
            progress(len(chunk))
    return ids


def _bulk_enemies(session: Session, records: list[ItemRecord], ids: dict[str, int]) -> None:
    pairs = {tuple(sorted((ids[r.ref], ids[enemy]))) for r in records for enemy in r.enemies}
    if not pairs:
        return
    already = {tuple(row) for row in session.execute(select(ItemEnemy.item_id, ItemEnemy.enemy_id))}
    rows = [{"item_id": low, "enemy_id": high} for low, high in sorted(pairs - already)]
    for chunk in _chunks(rows):
        session.execute(insert(ItemEnemy), chunk)


def _update_existing(
    session: Session,
    framework: Framework,
    plan: ImportPlan,
    existing: dict[str, Item],
    actor_id: int | None,
    actor_label: str,
    status: str,
) -> None:
    """Each changed record becomes a new version, audited with what it was and is.

    Never an overwrite: a draft the import replaces is kept, superseded, as the version
    it was; an existing item's enemies stay when the file says nothing of them (QTI).
    """
    for record in plan.changed:
        item = existing[record.ref]
        head = item.head
        before = {"version": head.number, "status": head.status, **head.content()}
        content = item_content(record)
        nodes = services.resolve_competencies(session, framework, content.competencies)
        version = services.new_version(item, head.number + 1, content, nodes, actor_id)
        session.add(version)
        stimuli.attach(session, framework, version, content.stimulus, actor_id, head, actor_label)
        if head.status == "draft":
            head.status = ItemStatus.SUPERSEDED
        if status == "approved":
            services.supersede_live(item, version)
            version.approved_at = clock.now()
        version.status = status
        item.revision += 1
        session.flush()
        if record.ref not in plan.keep_enemies:
            enemies = services.enemy_items(session, record.enemies, item.ref)
            services.set_enemies(session, item, enemies)
        audit.record(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="item.version_created",
            object_type="item",
            object_id=item.id,
            before=before,
            after={
                "version": version.number,
                "status": status,
                "source": "import",
                **version.content(),
            },
        )
