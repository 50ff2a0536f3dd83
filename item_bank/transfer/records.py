"""The exchange record: the one place that names an item's fields for every format.

JSON carries a record as it is; CSV flattens it by each field's kind (text, a list in one
cell, one entry per line); the database stores its content fields on ``ItemVersion``.
A new plain field is one more name in the tuple of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import Problem
from item_bank.schemas import LETTERS, ItemContent

# What an item version holds, in the order ``ItemVersion.content()`` gives it.
CONTENT_FIELDS = (
    "type",
    "stem",
    "options",
    "keys",
    "choose",
    "shuffle",
    "fixed",
    "label",
    "rationale",
    "references",
    "competencies",
    "cognitive_level",
)
# How CSV spells each field that is not one cell of text.
SEPARATED_FIELDS = ("keys", "fixed", "competencies", "enemies")  # "A;C" in one cell
BOOLEAN_FIELDS = ("shuffle",)  # "true" or "false"
LINE_FIELDS = ("references",)  # one entry per line of the cell
JSON_FIELDS = ("media",)  # a JSON array in one cell (empty: none)
OPTION_COLUMNS = tuple(f"option_{letter.lower()}" for letter in LETTERS)
# The stimulus (JSON: {"ref", "position", "title", "body"}) spread over cells of its own.
STIMULUS_COLUMNS = ("stimulus", "stimulus_position", "stimulus_title", "stimulus_body")
# Written on export, optional on import.
EXPORT_FIELDS = ("status", "version")
REQUIRED_COLUMNS = ("ref", "type", "stem", "keys")
CSV_COLUMNS = [
    "ref",
    "type",
    "stem",
    *OPTION_COLUMNS,
    *(name for name in CONTENT_FIELDS if name not in ("type", "stem", "options")),
    "enemies",
    *STIMULUS_COLUMNS,
    *JSON_FIELDS,
    *EXPORT_FIELDS,
]
# Fields of the record that are not item content.
NOT_CONTENT = frozenset(EXPORT_FIELDS)
LIST_SEPARATOR = ";"


def version_content(content: ItemContent) -> dict[str, Any]:
    """The content fields as an ``ItemVersion`` stores them (keys sorted)."""
    values = {name: getattr(content, name) for name in CONTENT_FIELDS}
    for name in ("options", "fixed", "references", "competencies"):
        values[name] = list(values[name])
    values["keys"] = sorted(content.keys)
    values["fixed"] = sorted(set(content.fixed))
    if content.media:  # as ``ItemVersion.content()`` gives it: only when there are media
        values["media"] = [medium.model_dump() for medium in content.media]
    return values


def item_content(record: ItemContent) -> ItemContent:
    """A record's item content, without what only the exchange file carries."""
    return ItemContent.model_validate(record.model_dump(exclude=set(NOT_CONTENT)))


@dataclass(frozen=True)
class RecordError:
    record: int  # 1-based position in the file
    ref: str | None
    field: str
    message: str
    source: str | None = None  # the file inside a package the record came from

    def where(self) -> str:
        """Where the problem is: a package's file and item, or a record and its ref."""
        if self.source:
            return f"{self.source} (item {self.ref or 'without identifier'})"
        return f"record {self.record} ({self.ref or 'no ref'})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "ref": self.ref,
            "source": self.source,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class ItemOutcome:
    """What the import does (or a dry run would do) with one record."""

    ref: str
    outcome: str  # "new", "new version 3", "unchanged"
    source: str | None = None
    notes: tuple[str, ...] = ()

    def line(self) -> str:
        where = f"{self.source}  " if self.source else ""
        notes = f"  ({'; '.join(self.notes)})" if self.notes else ""
        return f"{where}{self.ref}: {self.outcome}{notes}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "outcome": self.outcome,
            "source": self.source,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RefusedItem:
    """An item of a package the bank has no type for: left out, the others imported."""

    source: str
    ref: str
    reason: str  # "hotspotInteraction is not supported: ..."

    def line(self) -> str:
        return f"refused: {self.source} ({self.ref}): {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ref": self.ref, "reason": self.reason}


@dataclass
class ImportSummary:
    total: int
    created: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    dry_run: bool = False
    items: list[ItemOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "assessmentTest tests/test.xml"
    refused: list[RefusedItem] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)  # "new scenario S-1 (Title)"

    def report(self) -> list[str]:
        """The whole report: a line per item, per scenario it makes, per item refused and
        per skipped resource."""
        return [
            *(item.line() for item in self.items),
            *self.scenarios,
            *(refused.line() for refused in self.refused),
            *(f"skipped: {entry}" for entry in self.skipped),
        ]

    def counts(self) -> str:
        """The closing line's figures: "5 items; 0 new versions; 0 unchanged; 2 refused"."""
        refused = f"; {len(self.refused)} refused" if self.refused else ""
        return (
            f"{self.created} items; {self.new_versions} new versions; "
            f"{self.unchanged} unchanged{refused}; {self.total} records read."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "created": self.created,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "errors": [error.as_dict() for error in self.errors],
            "items": [item.as_dict() for item in self.items],
            "skipped": list(self.skipped),
            "refused": [refused.as_dict() for refused in self.refused],
            "scenarios": list(self.scenarios),
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
