"""The media of a candidate's questions: what the page shows, and who may fetch a file.

A candidate fetches a file only for an item on their own form (its own media, or the
exhibits of the scenario version it is on) and only while their attempt is in progress:
a finished, paused or timed-out attempt, someone else's attempt, or a file no item of the
form shows are all the same 404, so nothing is learnt by asking.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Problem
from exam.models import Attempt, AttemptItem, AttemptStatus
from item_bank.media_models import ItemVersionMedia, MediaFile, StimulusVersionMedia
from item_bank.models import ItemVersion


@dataclass(frozen=True)
class ShownMedia:
    """A medium as the candidate's page shows it: never the file's name or its item."""

    sha256: str
    kind: str
    content_type: str
    alt: str
    transcript: str
    width: int | None
    height: int | None


def _no_such_file() -> Problem:
    return Problem(404, "No such file", "There is no such file for this exam.")


def attempt_media(session: Session, candidate_id: int, attempt_id: int, sha256: str) -> MediaFile:
    """The file, when an item on the candidate's open attempt shows it (or the scenario it is
    on does); else a 404."""
    attempt = session.get(Attempt, attempt_id)
    if (
        attempt is None
        or attempt.candidate_id != candidate_id
        or attempt.status != AttemptStatus.IN_PROGRESS
        or attempt.time_is_up
    ):
        raise _no_such_file()
    on_form = select(AttemptItem.item_version_id).where(AttemptItem.attempt_id == attempt.id)
    by_item = select(ItemVersionMedia.sha256).where(
        ItemVersionMedia.version_id.in_(on_form), ItemVersionMedia.sha256 == sha256
    )
    by_scenario = (
        select(StimulusVersionMedia.sha256)
        .join(ItemVersion, ItemVersion.stimulus_version_id == StimulusVersionMedia.version_id)
        .where(ItemVersion.id.in_(on_form), StimulusVersionMedia.sha256 == sha256)
    )
    shown = session.scalar(
        select(MediaFile).where(
            MediaFile.sha256 == sha256,
            MediaFile.sha256.in_(by_item.union(by_scenario)),
        )
    )
    if shown is None:
        raise _no_such_file()
    return shown
