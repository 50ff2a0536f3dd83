"""What the candidate is shown of each question of a form, read in plain queries.

A start answers with the whole form. For a form drawn at admission its questions are read
then and kept with it (:func:`stored`), so a room pressing start together reads none of
this; a form drawn at the start, and every later view, reads it here. The form's item
versions are read as columns (stem, options, passage, media), never as ORM objects with
their relationships: only what the candidate may see, and never a key, a rationale or a
review status.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.models import AttemptItem
from exam.services.media_access import ShownMedia
from exam.services.shown_stimuli import ShownStimulus
from exam.services.stimulus_media import media_of_items, media_of_stimuli
from item_bank.models import ItemVersion
from item_bank.stimulus_models import StimulusVersion


@dataclass(frozen=True)
class SlotContent:
    """One question of the form as drawn: its place, its option order, what it shows."""

    position: int
    option_order: tuple[str, ...]
    type: str
    stem: str
    choose: int | None
    options: tuple[str, ...]  # the authored options, in authored order
    stimulus: ShownStimulus | None
    media: tuple[ShownMedia, ...]


Placed = tuple[int, int, tuple[str, ...]]  # position, item version id, option letters shown


def form_content(session: Session, attempt_id: int) -> list[SlotContent]:
    """The attempt's questions in the candidate's order."""
    placed = session.execute(
        select(AttemptItem.position, AttemptItem.item_version_id, AttemptItem.option_order)
        .where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
    ).all()
    return slot_contents(
        session, [(p, version_id, tuple(order)) for p, version_id, order in placed]
    )


def slot_contents(session: Session, placed: list[Placed]) -> list[SlotContent]:
    """What each placed question shows: for an attempt's form, or for a form drawn ahead
    (whose questions are kept with it, so its start reads none of this)."""
    version_ids = sorted({version_id for _, version_id, _ in placed})
    rows = session.execute(
        select(
            ItemVersion.id,
            ItemVersion.type,
            ItemVersion.stem,
            ItemVersion.choose,
            ItemVersion.options,
            StimulusVersion.id,
            StimulusVersion.title,
            StimulusVersion.body,
        )
        .outerjoin(StimulusVersion, StimulusVersion.id == ItemVersion.stimulus_version_id)
        .where(ItemVersion.id.in_(version_ids))
    ).all()
    by_version = {row[0]: row for row in rows}
    media = media_of_items(session, version_ids)
    exhibits = media_of_stimuli(session, {row[5] for row in rows if row[5] is not None})
    contents = []
    for position, version_id, order in placed:
        _, kind, stem, choose, options, stimulus_id, title, body = by_version[version_id]
        contents.append(
            SlotContent(
                position=position,
                option_order=order,
                type=kind,
                stem=stem,
                choose=choose,
                options=tuple(options),
                stimulus=ShownStimulus(
                    stimulus_id, title, body, media=exhibits.get(stimulus_id, ())
                )
                if stimulus_id
                else None,
                media=media.get(version_id, ()),
            )
        )
    return contents


def stored(contents: list[SlotContent]) -> list[dict[str, Any]]:
    """The questions as JSON, to keep with a form drawn ahead."""
    return [
        {
            "position": c.position,
            "option_order": list(c.option_order),
            "type": c.type,
            "stem": c.stem,
            "choose": c.choose,
            "options": list(c.options),
            "stimulus": _stored_stimulus(c.stimulus) if c.stimulus else None,
            "media": [list(astuple(m)) for m in c.media],
        }
        for c in contents
    ]


def from_stored(rows: list[dict[str, Any]]) -> list[SlotContent]:
    """The questions :func:`stored` kept, as :func:`slot_contents` gives them."""
    return [
        SlotContent(
            position=row["position"],
            option_order=tuple(row["option_order"]),
            type=row["type"],
            stem=row["stem"],
            choose=row["choose"],
            options=tuple(row["options"]),
            stimulus=_stimulus_from(row["stimulus"]) if row["stimulus"] else None,
            media=tuple(ShownMedia(*medium) for medium in row["media"]),
        )
        for row in rows
    ]


def _stored_stimulus(stimulus: ShownStimulus) -> dict[str, Any]:
    return {
        "key": stimulus.key,
        "title": stimulus.title,
        "body": stimulus.body,
        "media": [list(astuple(m)) for m in stimulus.media],
    }


def _stimulus_from(stored_stimulus: dict[str, Any]) -> ShownStimulus:
    return ShownStimulus(
        stored_stimulus["key"],
        stored_stimulus["title"],
        stored_stimulus["body"],
        media=tuple(ShownMedia(*medium) for medium in stored_stimulus["media"]),
    )
