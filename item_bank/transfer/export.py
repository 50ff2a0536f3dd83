"""Export: each item's newest version as an exchange record, written as JSON, CSV or a
QTI 2.1 content package."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Problem
from item_bank import services
from item_bank.frameworks import nodes_by_code
from item_bank.media_models import MediaFile
from item_bank.models import Framework, Item, ItemEnemy
from item_bank.transfer.json_csv import records_to_csv
from item_bank.transfer.qti_export import write_package


def media_types(session: Session, records: list[dict[str, Any]]) -> dict[str, str]:
    """The content type of every medium the records show, their scenarios' included."""
    hashes = {m["sha256"] for record in records for m in record.get("media", [])}
    hashes |= {
        m["sha256"] for record in records for m in (record.get("stimulus") or {}).get("media", [])
    }
    if not hashes:
        return {}
    rows = session.execute(
        select(MediaFile.sha256, MediaFile.content_type).where(MediaFile.sha256.in_(hashes))
    )
    return {sha: content_type for sha, content_type in rows}


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


# What each export format is called, by the name a file ends with and as the API's format.
FORMATS = {"json": "application/json", "csv": "text/csv", "qti": "application/zip"}
EXTENSIONS = {".json": "json", ".csv": "csv", ".zip": "qti"}


def format_for(filename: str) -> str:
    """The export format a file name asks for; a name that asks for none is refused."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix == ".xml":
        raise Problem(
            400,
            "Unknown export format",
            f"{filename}: a QTI export is a content package of many items; name it .zip.",
        )
    raise Problem(
        400,
        "Unknown export format",
        f"{filename}: export to .json, .csv or .zip (a QTI 2.1 content package).",
    )


def export_bytes(
    session: Session,
    framework: Framework,
    fmt: str,
    status: str = "",
    progress: Callable[[int], None] | None = None,
) -> tuple[bytes, int]:
    """The bank (each item's newest version) in ``fmt``, and how many items it holds."""
    if fmt not in FORMATS:
        raise Problem(400, "Unknown export format", f"Export as {', '.join(FORMATS)}.")
    records = export_records(session, framework, status)
    if fmt == "json":
        body = (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "csv":
        body = records_to_csv(records).encode()
    else:
        titles = {code: node.label for code, node in nodes_by_code(session, framework.id).items()}
        types = media_types(session, records)
        body = write_package(records, framework.code, titles, progress, types)
    return body, len(records)
