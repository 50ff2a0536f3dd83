"""Import and export of items: JSON and CSV both ways, QTI 2.1 choice items in.

An import validates every record first and reports every problem by record and field;
if any record is invalid nothing is written. New items are written in bulk.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException, ElementTree
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import Problem
from item_bank import services
from item_bank.frameworks import nodes_by_code
from item_bank.models import Framework, Item, ItemEnemy, ItemVersion, ItemVersionCompetency
from item_bank.schemas import LETTERS, TRUE_FALSE_OPTIONS, ItemContent, ItemRecord, content_errors

CSV_COLUMNS = [
    "ref",
    "type",
    "stem",
    *[f"option_{letter.lower()}" for letter in LETTERS],
    "keys",
    "choose",
    "rationale",
    "references",
    "competencies",
    "cognitive_level",
    "enemies",
    "status",
    "version",
]
LIST_SEPARATOR = ";"
MAX_RECORDS = 200_000


@dataclass(frozen=True)
class RecordError:
    record: int  # 1-based position in the file
    ref: str | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "ref": self.ref,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportSummary:
    total: int
    created: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "created": self.created,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "errors": [error.as_dict() for error in self.errors],
        }


class ImportRefused(Problem):
    def __init__(self, summary: ImportSummary) -> None:
        count = len(summary.errors)
        super().__init__(
            422,
            "Nothing was imported",
            f"{count} problem{'s' * (count != 1)} in {summary.total} records; "
            "fix them and import again.",
            slug="import-invalid",
            extra={"import": summary.as_dict()},
        )
        self.summary = summary


# ---- reading files ----------------------------------------------------------------------


def parse_json_records(data: bytes) -> list[Any]:
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(400, "Malformed JSON", f"The file is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise Problem(400, "Malformed JSON", "The file nests too deeply.") from exc
    if not isinstance(parsed, list):
        raise Problem(400, "Malformed JSON", "The file must hold a JSON array of item records.")
    return parsed


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def csv_row_to_record(row: dict[str, str]) -> dict[str, Any]:
    options = [row.get(f"option_{letter.lower()}", "") for letter in LETTERS]
    choose = (row.get("choose") or "").strip()
    version = (row.get("version") or "").strip()
    record: dict[str, Any] = {
        "ref": row.get("ref", ""),
        "type": row.get("type", ""),
        "stem": row.get("stem", ""),
        "options": [option for option in options if option.strip()],
        "keys": _split(row.get("keys", "")),
        "choose": int(choose) if choose.isdigit() else (choose or None),
        "rationale": row.get("rationale", ""),
        "references": [line for line in (row.get("references") or "").splitlines() if line.strip()],
        "competencies": _split(row.get("competencies", "")),
        "cognitive_level": row.get("cognitive_level", ""),
        "enemies": _split(row.get("enemies", "")),
    }
    if (row.get("status") or "").strip():
        record["status"] = row["status"].strip()
    if version:
        record["version"] = int(version) if version.isdigit() else version
    return record


def parse_csv_records(data: bytes) -> list[Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Unreadable CSV", "The CSV file must be UTF-8.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        column
        for column in ("ref", "type", "stem", "keys")
        if column not in (reader.fieldnames or [])
    ]
    if missing:
        raise Problem(400, "Unreadable CSV", f"The header lacks the columns {', '.join(missing)}.")
    unknown = [name for name in reader.fieldnames or [] if name not in CSV_COLUMNS]
    if unknown:
        raise Problem(400, "Unreadable CSV", f"Unknown columns: {', '.join(unknown)}.")
    records: list[Any] = []
    for row in reader:
        if None in row:  # more cells than the header names
            records.append({"_error": f"Row {reader.line_num} has more cells than the header."})
            continue
        records.append(csv_row_to_record({key: _uncell(value or "") for key, value in row.items()}))
    return records


QTI_NS = re.compile(r"^\{[^}]*\}")


def _local(tag: str) -> str:
    return QTI_NS.sub("", tag)


def _text(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _text_without(element: Any, skip: Any) -> str:
    """The text of ``element`` leaving out the ``skip`` subtree (the interaction)."""
    if element is skip:
        return ""
    parts = [element.text or ""]
    for child in element:
        parts.append(_text_without(child, skip))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


def qti_item_to_record(xml: bytes, default_competency: str | None, level: str) -> dict[str, Any]:
    """One QTI 2.1 ``assessmentItem`` with a ``choiceInteraction`` as an exchange record."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        return {"_error": f"Not well-formed XML: {exc}"}
    except DefusedXmlException:
        return {"_error": "The XML declares entities or a DTD; remove them and import again."}
    if _local(root.tag) != "assessmentItem":
        return {"_error": "Not a QTI assessmentItem."}
    elements = list(root.iter())
    interaction = next((e for e in elements if _local(e.tag) == "choiceInteraction"), None)
    if interaction is None:
        return {"_error": "Only choiceInteraction items can be imported."}
    response_id = interaction.get("responseIdentifier", "RESPONSE")
    declaration = next(
        (
            e
            for e in elements
            if _local(e.tag) == "responseDeclaration" and e.get("identifier") == response_id
        ),
        None,
    )
    choices = [e for e in interaction if _local(e.tag) == "simpleChoice"]
    letters = {
        choice.get("identifier"): LETTERS[i] for i, choice in enumerate(choices[: len(LETTERS)])
    }
    correct = [
        _text(v)
        for v in (declaration.iter() if declaration is not None else [])
        if _local(v.tag) == "value"
    ]
    body = next((e for e in elements if _local(e.tag) == "itemBody"), None)
    stem_parts = [_text_without(child, interaction) for child in (body if body is not None else [])]
    stem_parts += [_text(e) for e in interaction if _local(e.tag) == "prompt"]
    options = [_text(choice) for choice in choices]
    multiple = declaration is not None and declaration.get("cardinality") == "multiple"
    feedback = [_text(e) for e in elements if _local(e.tag) in ("modalFeedback", "feedbackBlock")]
    label_codes = [code.strip() for code in (root.get("label") or "").split(",") if code.strip()]
    item_type = "multiple_response" if multiple else "single_choice"
    if not multiple and options == TRUE_FALSE_OPTIONS:
        item_type = "true_false"
    return {
        "ref": re.sub(r"[^A-Za-z0-9._-]", "-", root.get("identifier", ""))[:64],
        "type": item_type,
        "stem": "\n\n".join(part for part in stem_parts if part),
        "options": options,
        "keys": [letters.get(value, value) for value in correct],
        "choose": len(correct) if multiple else None,
        "rationale": " ".join(feedback) or "Imported from QTI without feedback; add a rationale.",
        "references": [f"QTI item {root.get('identifier', '')}: {root.get('title', '')}".strip()][
            :1
        ],
        "competencies": label_codes or ([default_competency] if default_competency else []),
        "cognitive_level": level,
        "enemies": [],
    }


def parse_qti(
    data: bytes, default_competency: str | None = None, level: str = "recall"
) -> list[Any]:
    """A single QTI 2.1 item file, or a content package (zip) of them."""
    if data[:2] == b"PK":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise Problem(400, "Unreadable package", "The zip file is damaged.") from exc
        names = sorted(
            n
            for n in archive.namelist()
            if n.lower().endswith(".xml") and not n.lower().endswith("imsmanifest.xml")
        )
        if sum(archive.getinfo(n).file_size for n in names) > 100 * 1024 * 1024:
            raise Problem(413, "Too large", "The package unpacks to more than 100 MB.")
        return [qti_item_to_record(archive.read(n), default_competency, level) for n in names]
    return [qti_item_to_record(data, default_competency, level)]


def parse_upload(filename: str, data: bytes, default_competency: str | None = None) -> list[Any]:
    name = filename.lower()
    if name.endswith(".json"):
        return parse_json_records(data)
    if name.endswith(".csv"):
        return parse_csv_records(data)
    if name.endswith((".xml", ".zip")):
        return parse_qti(data, default_competency)
    raise Problem(415, "Unsupported file", "Import .json, .csv, or QTI 2.1 .xml / .zip files.")


# ---- validating ----------------------------------------------------------------------------


def validate_records(
    session: Session, framework: Framework, raw_records: list[Any]
) -> tuple[list[tuple[int, ItemRecord]], list[RecordError]]:
    """Every problem of every record, by record and field; valid records with their numbers."""
    if len(raw_records) > MAX_RECORDS:
        raise Problem(413, "Too many records", f"Import at most {MAX_RECORDS} records at once.")
    leaves = {
        code
        for code, node in nodes_by_code(session, framework.id).items()
        if node.kind == "competency"
    }
    bank_refs = set(session.scalars(select(Item.ref)))
    errors: list[RecordError] = []
    records: list[ItemRecord] = []
    positions: list[int] = []
    for number, raw in enumerate(raw_records, start=1):
        record = _validate_one(number, raw, leaves, errors)
        if record is not None:
            records.append(record)
            positions.append(number)
    counts = Counter(record.ref for record in records)
    known = bank_refs | set(counts)
    for number, record in zip(positions, records, strict=True):
        if counts[record.ref] > 1:
            errors.append(
                RecordError(
                    number, record.ref, "ref", "This ref appears more than once in the file."
                )
            )
        for enemy in record.enemies:
            if enemy == record.ref:
                errors.append(
                    RecordError(number, record.ref, "enemies", "An item cannot be its own enemy.")
                )
            elif enemy not in known:
                errors.append(
                    RecordError(number, record.ref, "enemies", f"No item with ref {enemy}.")
                )
    errors.sort(key=lambda error: error.record)
    return list(zip(positions, records, strict=True)), errors


def _validate_one(
    number: int, raw: Any, leaves: set[str], errors: list[RecordError]
) -> ItemRecord | None:
    if not isinstance(raw, dict):
        errors.append(RecordError(number, None, "record", "A record must be a JSON object."))
        return None
    ref = raw.get("ref") if isinstance(raw.get("ref"), str) else None
    if "_error" in raw:
        errors.append(RecordError(number, ref, "record", raw["_error"]))
        return None
    try:
        record = ItemRecord.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "record"
            message = "Unknown field." if error["type"] == "extra_forbidden" else str(error["msg"])
            errors.append(RecordError(number, ref, where, message))
        return None
    problems = [RecordError(number, ref, e.field, e.message) for e in content_errors(record)]
    problems += [
        RecordError(number, ref, "competencies", f"Unknown competency code {code}.")
        for code in record.competencies
        if code not in leaves
    ]
    errors.extend(problems)
    return None if problems else record


# ---- writing --------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    fresh: list[ItemRecord] = field(default_factory=list)
    changed: list[ItemRecord] = field(default_factory=list)
    unchanged: int = 0


def _plan(
    session: Session, numbered: list[tuple[int, ItemRecord]], existing: dict[str, Item]
) -> tuple[ImportPlan, list[RecordError]]:
    plan, errors = ImportPlan(), []
    for number, record in numbered:
        item = existing.get(record.ref)
        if item is None:
            plan.fresh.append(record)
            continue
        content = ItemContent.model_validate(record.model_dump(exclude={"status", "version"}))
        same_enemies = set(services.enemy_refs(session, item.id)) == set(record.enemies)
        if _same_content(item.head, content) and same_enemies:
            plan.unchanged += 1
        elif item.head.status == "in_review":
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
    return plan, errors


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
) -> ImportSummary:
    """Validate everything, then write everything in one transaction, or nothing.

    A dry run goes through every check the real import makes and reports the same counts.
    """
    numbered, errors = validate_records(session, framework, raw_records)
    refs = [record.ref for _, record in numbered]
    existing = (
        {item.ref: item for item in session.scalars(select(Item).where(Item.ref.in_(refs)))}
        if refs
        else {}
    )
    plan, conflicts = _plan(session, numbered, existing)
    summary = ImportSummary(
        total=len(raw_records),
        errors=sorted(errors + conflicts, key=lambda e: e.record),
        dry_run=dry_run,
        created=len(plan.fresh),
        new_versions=len(plan.changed),
        unchanged=plan.unchanged,
    )
    if summary.errors:
        raise ImportRefused(summary)
    if dry_run:
        return summary
    nodes = {code: node.id for code, node in nodes_by_code(session, framework.id).items()}
    ids = _bulk_create(session, framework, plan.fresh, nodes, status, actor_id, progress)
    _update_existing(session, framework, plan.changed, existing, actor_id, status)
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


def _bulk_create(
    session: Session,
    framework: Framework,
    records: list[ItemRecord],
    nodes: dict[str, int],
    status: str,
    actor_id: int | None,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    now = clock.now()
    ids: dict[str, int] = {}
    approved = status == "approved"
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
        session.execute(insert(Item.__table__), item_rows)
        ids.update(session.execute(select(Item.ref, Item.id).where(Item.ref.in_(refs))).all())
        version_rows = [
            {
                "item_id": ids[r.ref],
                "number": 1,
                "status": status,
                "type": r.type,
                "stem": r.stem,
                "options": list(r.options),
                "keys": sorted(r.keys),
                "choose": r.choose,
                "rationale": r.rationale,
                "references": list(r.references),
                "cognitive_level": r.cognitive_level,
                "primary_code": r.competencies[0],
                "draw_key": random.random(),  # noqa: S311  (sampling, not secrecy)
                "author_id": actor_id,
                "contributor_ids": [actor_id] if actor_id else [],
                "created_at": now,
                "submitted_at": now if status != "draft" else None,
                "approved_at": now if approved else None,
                # Approved elsewhere before the import: nobody here approved it.
                "approved_by": None,
            }
            for r in chunk
        ]
        session.execute(insert(ItemVersion.__table__), version_rows)
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
        session.execute(insert(ItemVersionCompetency.__table__), links)
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
    records: list[ItemRecord],
    existing: dict[str, Item],
    actor_id: int | None,
    status: str,
) -> None:
    """Changed records become a new version (or rewrite the draft), audited per item."""
    for record in records:
        item = existing[record.ref]
        head = item.head
        content = ItemContent.model_validate(record.model_dump(exclude={"status", "version"}))
        nodes = services.resolve_competencies(session, framework, content.competencies)
        if head.status == "draft":
            services.apply_content(head, content, nodes)
            version = head
        else:
            version = services.new_version(item, head.number + 1, content, nodes, actor_id)
            session.add(version)
        if status == "approved":
            services.supersede_live(item, version)
            version.approved_at = clock.now()
        version.status = status
        item.revision += 1
        session.flush()
        services.set_enemies(session, item, services.enemy_items(session, record.enemies, item.ref))
        audit.record(
            session,
            actor_id=actor_id,
            action="item.version_created",
            object_type="item",
            object_id=item.id,
            after={"version": version.number, "status": status, "source": "import"},
        )


def _same_content(version: ItemVersion, content: ItemContent) -> bool:
    return version.content() == {
        "type": content.type,
        "stem": content.stem,
        "options": list(content.options),
        "keys": sorted(content.keys),
        "choose": content.choose,
        "rationale": content.rationale,
        "references": list(content.references),
        "competencies": list(content.competencies),
        "cognitive_level": content.cognitive_level,
    }


# ---- exporting ------------------------------------------------------------------------------


def export_records(
    session: Session, framework: Framework, status: str = ""
) -> list[dict[str, Any]]:
    """Each item's newest version as an exchange record, ordered by ref."""
    filters = services.ItemFilters(framework_id=framework.id, status=status)
    versions = list(session.scalars(services.head_versions_query(filters)))
    refs = dict(
        session.execute(select(Item.id, Item.ref).where(Item.framework_id == framework.id)).all()
    )
    enemies: dict[int, set[str]] = {}
    for low, high in session.execute(select(ItemEnemy.item_id, ItemEnemy.enemy_id)):
        if low in refs and high in refs:
            enemies.setdefault(low, set()).add(refs[high])
            enemies.setdefault(high, set()).add(refs[low])
    records = [
        {
            "ref": refs[version.item_id],
            **version.content(),
            "enemies": sorted(enemies.get(version.item_id, ())),
            "status": version.status,
            "version": version.number,
        }
        for version in versions
    ]
    return sorted(records, key=lambda record: record["ref"])


FORMULA_STARTS = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    """Spreadsheets run cells that start like a formula: prefix those with an apostrophe."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS) or (value.startswith("'") and value[1:2] in FORMULA_STARTS)
    ):
        return "'" + value
    return value


def _uncell(value: str) -> str:
    if value.startswith("'") and (
        value[1:2] in FORMULA_STARTS or (value[1:2] == "'" and value[2:3] in FORMULA_STARTS)
    ):
        return value[1:]
    return value


def records_to_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {
            "ref": record["ref"],
            "type": record["type"],
            "stem": record["stem"],
            "keys": LIST_SEPARATOR.join(record["keys"]),
            "choose": "" if record.get("choose") is None else record["choose"],
            "rationale": record["rationale"],
            "references": "\n".join(record["references"]),
            "competencies": LIST_SEPARATOR.join(record["competencies"]),
            "cognitive_level": record["cognitive_level"],
            "enemies": LIST_SEPARATOR.join(record.get("enemies", [])),
            "status": record.get("status", ""),
            "version": record.get("version", ""),
        }
        for index, letter in enumerate(LETTERS):
            options = record["options"]
            row[f"option_{letter.lower()}"] = options[index] if index < len(options) else ""
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()
