"""The stimulus of an imported record: checked with the rest of the file before anything is
written, then found or made (with the version whose text the record carries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from item_bank.models import Framework, ItemVersion
from item_bank.rendering import same_markdown
from item_bank.schemas import ItemContent, ItemRecord
from item_bank.services import stimuli
from item_bank.transfer.records import RecordError

MARKDOWN_FIELDS = frozenset({"stem", "options"})


def link_errors(
    session: Session, framework: Framework, numbered: list[tuple[int, ItemRecord]]
) -> list[RecordError]:
    """Links the import could not follow: a stimulus named without its text that the bank
    does not hold, half a text, another framework's stimulus."""
    errors = []
    for number, record in numbered:
        link = record.stimulus
        if link is None:
            continue
        found = stimuli.get_stimulus(session, link.ref)
        message = None
        if (link.title is None) != (link.body is None):
            message = "Give the stimulus's title and body together."
        elif found is not None and found.framework_id != framework.id:
            message = f"Stimulus {link.ref} is another framework's."
        elif link.title is None and found is None:
            message = f"No stimulus {link.ref} in the bank; give its title and body."
        if message:
            errors.append(RecordError(number, record.ref, "stimulus", message))
    return errors


def planned_scenarios(session: Session, records: list[ItemRecord]) -> list[str]:
    """A report line per scenario the import makes or gives a new version, with its
    title, how many of the file's items it holds and how many exhibits it shows."""
    lines: dict[str, tuple[str, str, int]] = {}
    counts: dict[str, int] = {}
    for record in records:
        link = record.stimulus
        if link is None:
            continue
        counts[link.ref] = counts.get(link.ref, 0) + 1
        if link.ref not in lines:
            outcome = stimuli.planned_scenario(session, link)
            if outcome:
                lines[link.ref] = (outcome, link.title or "", len(link.media or []))
    return [
        f"scenario {ref}: {outcome}  (“{title}”, {counts[ref]} item{'s' * (counts[ref] != 1)}"
        f"{f', {shown} exhibit' + 's' * (shown != 1) if shown else ''})"
        for ref, (outcome, title, shown) in lines.items()
    ]


def bulk_links(
    session: Session,
    framework: Framework,
    records: list[ItemRecord],
    actor_id: int | None,
    actor_label: str | None = None,
) -> dict[str, tuple[int, int]]:
    """For each record on a stimulus: the stimulus version's id and the item's place (the
    record's, else after what the set already holds, in file order)."""
    links: dict[str, tuple[int, int]] = {}
    next_place: dict[int, int] = {}
    for record in records:
        link = record.stimulus
        if link is None:
            continue
        version = stimuli.resolve_link(session, framework, link, actor_id, actor_label)
        if version.stimulus_id not in next_place:
            next_place[version.stimulus_id] = stimuli.next_position(
                session, version.stimulus_id, None
            )
        position = link.position or next_place[version.stimulus_id]
        next_place[version.stimulus_id] = max(next_place[version.stimulus_id], position + 1)
        links[record.ref] = (version.id, position)
    return links


def same_content(version: ItemVersion, content: dict[str, Any], record: ItemContent) -> bool:
    """Whether the record leaves ``version`` as it is, its stimulus included. A stem or
    option that shows the same is the same: QTI carries text as it is shown, so a stem
    written "customer_id" may come back from a package as "customer\\_id"."""
    mine = version.content()
    mine.pop("stimulus")
    if mine != content:
        rest = {name for name in mine.keys() | content.keys() if name not in MARKDOWN_FIELDS}
        if any(mine.get(name) != content.get(name) for name in rest):
            return False
        if not same_markdown(mine["stem"], content["stem"]) or len(mine["options"]) != len(
            content["options"]
        ):
            return False
        pairs = zip(mine["options"], content["options"], strict=True)
        if not all(same_markdown(old, new, inline=True) for old, new in pairs):
            return False
    return stimuli.same_link(version, record.stimulus)
