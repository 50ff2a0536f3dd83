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
OPTION_COLUMNS = tuple(f"option_{letter.lower()}" for letter in LETTERS)
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
