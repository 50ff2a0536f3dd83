"""JSON and CSV exchange files, read into records and written from them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from core.errors import Problem
from item_bank.transfer.records import (
    BOOLEAN_FIELDS,
    CONTENT_FIELDS,
    CSV_COLUMNS,
    EXPORT_FIELDS,
    JSON_FIELDS,
    LINE_FIELDS,
    LIST_SEPARATOR,
    OPTION_COLUMNS,
    REQUIRED_COLUMNS,
    SEPARATED_FIELDS,
)

# The record's fields in CSV order; options spread over one column each.
RECORD_FIELDS = ("ref", *CONTENT_FIELDS, "enemies", *JSON_FIELDS)
NUMBER_FIELDS = ("choose", "version")
FORMULA_STARTS = ("=", "+", "-", "@")


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


def _number(cell: str) -> int | str | None:
    """A whole number when the cell holds one; anything else is left for validation."""
    cell = cell.strip()
    return int(cell) if cell.isdigit() else (cell or None)


def _field_from_row(name: str, row: dict[str, str]) -> Any:
    cell = row.get(name) or ""
    if name == "options":
        return [option for option in (row.get(c, "") for c in OPTION_COLUMNS) if option.strip()]
    if name in SEPARATED_FIELDS:
        return _split(cell)
    if name in LINE_FIELDS:
        return [line for line in cell.splitlines() if line.strip()]
    if name in NUMBER_FIELDS:
        return _number(cell)
    if name in BOOLEAN_FIELDS:
        return _boolean(cell)
    if name in JSON_FIELDS:
        return _json_cell(cell)
    return cell


def _json_cell(cell: str) -> Any:
    """A JSON cell's value; anything that is not JSON is left for validation to refuse."""
    if not cell.strip():
        return []
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _boolean(cell: str) -> bool | str:
    """``true`` or ``false`` (empty: true, the default); anything else is left for validation."""
    word = cell.strip().lower()
    if word in ("", "true", "yes", "1"):
        return True
    if word in ("false", "no", "0"):
        return False
    return cell


def _stimulus_from_row(row: dict[str, str]) -> dict[str, Any] | None:
    ref = (row.get("stimulus") or "").strip()
    if not ref:
        return None
    return {
        "ref": ref,
        "position": _number(row.get("stimulus_position") or ""),
        "title": row.get("stimulus_title") or None,
        "body": row.get("stimulus_body") or None,
    }


def _stimulus_cells(link: dict[str, Any] | None) -> dict[str, Any]:
    link = link or {}
    return {
        "stimulus": link.get("ref") or "",
        "stimulus_position": link.get("position") or "",
        "stimulus_title": link.get("title") or "",
        "stimulus_body": link.get("body") or "",
    }


# Columns a file may leave out: an item already in the bank then keeps what it has.
KEPT_WHEN_ABSENT = {"media": "_keep_media", "stimulus": "_keep_stimulus"}


def csv_row_to_record(row: dict[str, str], columns: Sequence[str] = CSV_COLUMNS) -> dict[str, Any]:
    record = {name: _field_from_row(name, row) for name in RECORD_FIELDS}
    record["stimulus"] = _stimulus_from_row(row)
    if record["media"] == []:  # as an item without media is exported: no field at all
        del record["media"]
    for name, marker in KEPT_WHEN_ABSENT.items():
        if name not in columns:
            record.pop(name, None)
            record[marker] = True
    for name in EXPORT_FIELDS:  # present only when the file gives them
        cell = (row.get(name) or "").strip()
        if cell:
            record[name] = _number(cell) if name in NUMBER_FIELDS else cell
    return record


def parse_csv_records(data: bytes) -> list[Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Unreadable CSV", "The CSV file must be UTF-8.") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
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
        cells = {key: _uncell(value or "") for key, value in row.items()}
        records.append(csv_row_to_record(cells, reader.fieldnames or ()))
    return records


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


def _cells_of(name: str, value: Any) -> dict[str, Any]:
    if name == "options":
        options = list(value or [])
        return {
            column: options[index] if index < len(options) else ""
            for index, column in enumerate(OPTION_COLUMNS)
        }
    if value is None:
        return {name: ""}
    if name in SEPARATED_FIELDS:
        return {name: LIST_SEPARATOR.join(value)}
    if name in LINE_FIELDS:
        return {name: "\n".join(value)}
    if name in BOOLEAN_FIELDS:
        return {name: "true" if value else "false"}
    if name in JSON_FIELDS:
        return {name: json.dumps(value, ensure_ascii=False) if value else ""}
    return {name: value}


def records_to_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row: dict[str, Any] = {}
        for name in (*RECORD_FIELDS, *EXPORT_FIELDS):
            row.update(_cells_of(name, record.get(name)))
        row.update(_stimulus_cells(record.get("stimulus")))
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()
