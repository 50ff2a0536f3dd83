"""Checking an import: every problem of every record, by record and field, before anything
is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Problem
from item_bank.frameworks import nodes_by_code
from item_bank.models import Framework, Item
from item_bank.schemas import ItemRecord, content_errors
from item_bank.services.media_rules import media_errors
from item_bank.transfer.qti_media import import_kinds
from item_bank.transfer.records import RecordError

MAX_RECORDS = 200_000


def validate_records(
    session: Session,
    framework: Framework,
    raw_records: list[Any],
    default_competency: str | None = None,
) -> tuple[list[tuple[int, ItemRecord]], list[RecordError]]:
    """Every problem of every record, by record and field; valid records with their numbers.

    A QTI record's competencies are the codes its metadata names that are competencies
    of ``framework``, else ``default_competency`` (``--competency``), else it is refused.
    """
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
        record = _validate_one(
            number, _settled(raw, leaves, framework.code, default_competency), leaves, errors
        )
        if record is not None:
            records.append(record)
            positions.append(number)
    kinds = import_kinds(raw_records)
    for number, record in zip(positions, records, strict=True):
        for error in media_errors(session, record.media, kinds):
            errors.append(RecordError(number, record.ref, error.field, error.message))
        shown = record.stimulus.media if record.stimulus else None
        for error in media_errors(session, shown or [], kinds):
            where = f"stimulus.{error.field}"
            errors.append(RecordError(number, record.ref, where, error.message))
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
    errors = [replace(error, source=source_of(raw_records, error.record)) for error in errors]
    errors.sort(key=lambda error: error.record)
    return list(zip(positions, records, strict=True)), errors


def source_of(raw_records: list[Any], number: int) -> str | None:
    """The file a record came from inside a package (None for JSON and CSV)."""
    raw = raw_records[number - 1] if 0 < number <= len(raw_records) else None
    source = raw.get("_source") if isinstance(raw, dict) else None
    return source if isinstance(source, str) else None


def _settled(raw: Any, leaves: set[str], framework: str, default: str | None) -> Any:
    """A QTI record with its competencies decided: from its metadata, else the default."""
    if not isinstance(raw, dict) or "_taxa" not in raw or "_error" in raw:
        return raw
    named = [code for code in raw["_taxa"] if code in leaves]
    if named:
        return {**raw, "competencies": named[:5]}
    if default:
        return {**raw, "competencies": [default]}
    found = f" (it names {', '.join(raw['_taxa'][:5])})" if raw["_taxa"] else ""
    return {
        **raw,
        "_field": "competencies",
        "_error": "No competency: the item's metadata (a LOM classification taxonPath in "
        f"the manifest) names none of {framework}'s competencies{found}, and no "
        "--competency was given. Add one of the two and import again.",
    }


def _validate_one(
    number: int, raw: Any, leaves: set[str], errors: list[RecordError]
) -> ItemRecord | None:
    if not isinstance(raw, dict):
        errors.append(RecordError(number, None, "record", "A record must be a JSON object."))
        return None
    ref = raw.get("ref") if isinstance(raw.get("ref"), str) else None
    if "_error" in raw:
        errors.append(RecordError(number, ref, str(raw.get("_field", "record")), raw["_error"]))
        return None
    try:
        record = ItemRecord.model_validate(
            {key: value for key, value in raw.items() if not key.startswith("_")}
        )
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
