"""The revision a reviewer decides on: a fingerprint of the version's content, so an
approval or a return binds to the content that was read, never to whatever the draft has
become since (withdrawn, edited and resubmitted while the review page stood open).

It is computed from the content itself, not counted, so every path that changes the
content (the editor, the API, an import, fields added later) changes it, and content
changed back to what was read is the same revision again. It is made of one digest per
group of fields, so a stale one tells which fields changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from core.errors import FieldError, Problem
from item_bank.models import Item, ItemVersion

# What a reviewer is told changed, and the content fields each name covers.
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stem", ("stem",)),
    ("options", ("type", "options", "choose", "shuffle", "fixed")),
    ("key", ("keys",)),
    ("rationale", ("rationale", "references")),
    ("competencies", ("competencies", "cognitive_level")),
    ("label", ("label",)),
)
OTHER = "other content"  # any content field the groups above do not name
_NAMED = frozenset(field for _, fields in FIELD_GROUPS for field in fields)
_GROUP_NAMES = (*(name for name, _ in FIELD_GROUPS), OTHER)
DIGEST_CHARS = 16  # 64 bits a group: no edit can be made to collide with what was read


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def _digests(content: dict[str, Any]) -> list[str]:
    named = [_digest([content.get(field) for field in fields]) for _, fields in FIELD_GROUPS]
    rest = {key: value for key, value in content.items() if key not in _NAMED}
    return [*named, _digest(rest)]


def content_revision(version: ItemVersion) -> str:
    """``<version number>.<digest>.<digest>...``, one digest per field group."""
    return ".".join([str(version.number), *_digests(version.content())])


def _parts(revision: str) -> tuple[str, list[str]] | None:
    number, *digests = revision.strip().split(".")
    well_formed = (
        number.isdigit()
        and len(digests) == len(_GROUP_NAMES)
        and all(len(d) == DIGEST_CHARS and all(c in "0123456789abcdef" for c in d) for d in digests)
    )
    return (number, digests) if well_formed else None


def changed_fields(seen: str, current: str) -> list[str]:
    """What differs between two well-formed revisions: "version" when it is another
    version, then the field groups whose content changed."""
    seen_parts, current_parts = _parts(seen), _parts(current)
    assert seen_parts is not None and current_parts is not None
    changed = ["version"] if seen_parts[0] != current_parts[0] else []
    return changed + [
        name
        for name, old, new in zip(_GROUP_NAMES, seen_parts[1], current_parts[1], strict=True)
        if old != new
    ]


def _revision_needed(current: str, message: str) -> Problem:
    return Problem(
        422,
        "Which revision did you review?",
        f"{message} Send the revision of the content you read (the item's content_revision).",
        errors=[FieldError("revision", message)],
        extra={"revision": current},
    )


def require_reviewed_revision(item: Item, version: ItemVersion, seen: str | None) -> None:
    """A decision on ``version`` by a reviewer who read revision ``seen``: a 409 naming
    what changed when the content is no longer what they read."""
    current = content_revision(version)
    if not seen or not seen.strip():
        raise _revision_needed(current, "Required.")
    if _parts(seen) is None:
        raise _revision_needed(current, "Not a revision this item bank gave.")
    if seen.strip() == current:
        return
    changed = changed_fields(seen, current)
    raise Problem(
        409,
        "The item changed while you were reviewing it",
        f"{item.ref} version {version.number} is not what you read: "
        f"{', '.join(changed)} changed since. Nothing was approved or returned; "
        "read the item as it is now and decide again.",
        slug="stale-review",
        errors=[FieldError("revision", f"Send the current revision, {current}.")],
        extra={"revision": current, "changed": changed, "version": version.number},
    )
