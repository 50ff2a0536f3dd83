"""Response export for outside analysis (R, ConQuest, jMetrik, Winsteps), audited.

Two layouts: *long*, one row per administered item (attempt pseudonym, item ref and
version, position, response, score, seconds to the answer's last save), and *wide*, one
row per attempt and one column per item version, with 1/0 (or the partial score), blank
for an item on the form that was not scored, and a missing code for an item not on the
form. Pseudonyms are keyed on the app's secret and the export's id: stable within one
export (and when the same export id is asked for again), unlinkable between exports.
Names and emails are included only when the exporter asks, and the audit row says so.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from core import audit
from exam.psychometrics.responses import ItemKey, ResponseSet, load
from exam.psychometrics.schemas import ResponseExportOut
from exam.services.problems import invalid

MISSING = "NA"  # an item that was not on the attempt's form (R reads it as missing)
EXPORT_ID = re.compile(r"^[0-9a-f]{16}$")
LONG_COLUMNS = (
    "attempt",
    "sitting",
    "item_ref",
    "item_version",
    "competency",
    "position",
    "response",
    "score",
    "answered_after_s",
    "pretest",
)
IDENTITY_COLUMNS = ("candidate_name", "candidate_email")


class Layout(StrEnum):
    LONG = "long"
    WIDE = "wide"


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


MEDIA_TYPES = {Format.CSV: "text/csv", Format.JSON: "application/json"}


@dataclass(frozen=True)
class ExportRequest:
    blueprint: str
    sitting_id: int | None = None
    layout: Layout = Layout.LONG
    format: Format = Format.CSV
    identified: bool = False
    export_id: str | None = None  # repeat an earlier export's pseudonyms


@dataclass(frozen=True)
class Export:
    export_id: str
    body: str
    media_type: str
    filename: str
    attempts: int
    responses: int


def parse_request(
    blueprint: str,
    sitting: int | None,
    layout: str | None,
    fmt: str | None,
    identified: str | bool | None,
    export_id: str | None,
) -> ExportRequest:
    """An export request from query or command-line values; a 422 names a bad one."""
    layout = layout or Layout.LONG
    if layout not in tuple(Layout):
        raise invalid("layout", "layout is long or wide.")
    fmt = fmt or Format.CSV
    if fmt not in tuple(Format):
        raise invalid("format", "format is csv or json.")
    if isinstance(identified, str):
        if identified not in ("", "true", "false", "1", "0"):
            raise invalid("identified", "identified is true or false.")
        identified = identified in ("true", "1")
    if export_id is not None and export_id != "" and not EXPORT_ID.match(export_id):
        raise invalid("export", "export is the 16-character id of an earlier export.")
    if sitting is not None and sitting < 1:
        raise invalid("sitting", "sitting is a sitting's id.")
    return ExportRequest(
        blueprint, sitting, Layout(layout), Format(fmt), bool(identified), export_id or None
    )


def pseudonym(key: bytes, export_id: str, attempt_id: int) -> str:
    digest = hmac.new(key, f"{export_id}:{attempt_id}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:12]


def _score(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value in (0.0, 1.0) else f"{value:.4g}"


def _identities(session: Session, candidate_ids: set[int]) -> dict[int, tuple[str, str]]:
    ids = sorted(candidate_ids)
    return {
        uid: (f"{given} {family}".strip(), email)
        for start in range(0, len(ids), 2000)
        for uid, given, family, email in session.execute(
            select(User.id, User.given_name, User.family_name, User.email).where(
                User.id.in_(ids[start : start + 2000])
            )
        ).all()
    }


def _long_records(
    data: ResponseSet, names: dict[int, str], people: dict[int, tuple[str, str]] | None
) -> list[dict[str, Any]]:
    records = []
    for row in data.rows:
        key = data.items[row.version_id]
        record: dict[str, Any] = {
            "attempt": names[row.attempt_id],
            "sitting": row.sitting_id,
            "item_ref": key.ref,
            "item_version": key.version,
            "competency": key.code,
            "position": row.position,
            "response": ";".join(row.selected),
            "score": row.score,
            "answered_after_s": row.answered_after_s,
            "pretest": row.pretest,
        }
        if people is not None:
            record["candidate_name"], record["candidate_email"] = people.get(
                row.candidate_id, ("", "")
            )
        records.append(record)
    return records


def _wide(
    data: ResponseSet, names: dict[int, str]
) -> tuple[list[ItemKey], list[tuple[int, dict[int, float | None]]]]:
    keys = sorted(data.items.values(), key=lambda k: (k.ref, k.version))
    by_attempt: dict[int, dict[int, float | None]] = {}
    for row in data.rows:
        by_attempt.setdefault(row.attempt_id, {})[row.version_id] = row.score
    return keys, sorted(by_attempt.items(), key=lambda pair: names[pair[0]])


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _render(
    request: ExportRequest,
    data: ResponseSet,
    export_id: str,
    names: dict[int, str],
    people: dict[int, tuple[str, str]] | None,
) -> str:
    candidate_of = {row.attempt_id: row.candidate_id for row in data.rows}
    if request.layout == Layout.LONG:
        records = _long_records(data, names, people)
        if request.format == Format.JSON:
            return _json_document(request, data, export_id, {"responses": records})
        columns = list(LONG_COLUMNS) + (list(IDENTITY_COLUMNS) if people is not None else [])
        rows = [
            [_score(r[c]) if c == "score" else ("" if r[c] is None else r[c]) for c in columns]
            for r in records
        ]
        return _csv(columns, rows)
    keys, matrix = _wide(data, names)
    if request.format == Format.JSON:
        persons = []
        for attempt_id, scores in matrix:
            person: dict[str, Any] = {
                "attempt": names[attempt_id],
                "scores": [scores.get(k.version_id, MISSING) for k in keys],
            }
            if people is not None:
                person["candidate_name"], person["candidate_email"] = people.get(
                    candidate_of[attempt_id], ("", "")
                )
            persons.append(person)
        return _json_document(
            request,
            data,
            export_id,
            {"missing": MISSING, "items": [k.column for k in keys], "persons": persons},
        )
    header = ["attempt", *(list(IDENTITY_COLUMNS) if people is not None else [])]
    header += [k.column for k in keys]
    lines = []
    for attempt_id, scores in matrix:
        who = list(people.get(candidate_of[attempt_id], ("", ""))) if people is not None else []
        cells = [_score(scores[k.version_id]) if k.version_id in scores else MISSING for k in keys]
        lines.append([names[attempt_id], *who, *cells])
    return _csv(header, lines)


def _json_document(
    request: ExportRequest, data: ResponseSet, export_id: str, body: dict[str, Any]
) -> str:
    document = {
        "export": export_id,
        "blueprint": data.blueprint,
        "sitting": data.sitting_id,
        "layout": request.layout.value,
        "identified": request.identified,
        **body,
    }
    return ResponseExportOut.model_validate(document).model_dump_json(exclude_unset=True) + "\n"


def export_responses(
    session: Session,
    actor_id: int | None,
    request: ExportRequest,
    key: bytes,
    actor_label: str | None = None,
) -> Export:
    """The responses in the layout and format asked for; one audit row says who exported
    what, under which export id, and whether names and emails were included."""
    data = load(session, request.blueprint, request.sitting_id)
    export_id = request.export_id or secrets.token_hex(8)
    names = {a: pseudonym(key, export_id, a) for a in data.attempt_ids}
    people = None
    if request.identified:
        people = _identities(session, {row.candidate_id for row in data.rows})
    body = _render(request, data, export_id, names, people)
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="responses.exported",
        object_type="blueprint",
        object_id=data.blueprint,
        after={
            "export": export_id,
            "repeated": request.export_id is not None,
            "sitting": request.sitting_id,
            "layout": request.layout.value,
            "format": request.format.value,
            "identified": request.identified,
            "attempts": len(names),
            "responses": len(data.rows),
        },
    )
    session.commit()
    scope = f"-sitting-{request.sitting_id}" if request.sitting_id else ""
    filename = f"responses-{data.blueprint}{scope}-{request.layout.value}.{request.format.value}"
    return Export(
        export_id, body, MEDIA_TYPES[request.format], filename, len(names), len(data.rows)
    )
