"""The passage shown beside a question: the exact stimulus version the item was drawn with,
and which questions of the form share it (so the page can say "Questions 3 to 5")."""

from __future__ import annotations

from dataclasses import dataclass, replace

from exam.services.media_access import ShownMedia


@dataclass(frozen=True)
class ShownStimulus:
    key: int  # the stimulus version: questions with the same key share the passage
    title: str
    body: str
    first: int = 0  # the first and last position of the run of questions on it
    last: int = 0
    media: tuple[ShownMedia, ...] = ()  # the exhibits shown after the passage


def with_runs(shown: list[tuple[int, ShownStimulus | None]]) -> list[ShownStimulus | None]:
    """Each (position, passage) of the form, the passage told the run of consecutive
    positions that share it."""
    result: list[ShownStimulus | None] = [stimulus for _, stimulus in shown]
    start = 0
    while start < len(shown):
        stimulus = shown[start][1]
        end = start + 1
        while stimulus and end < len(shown) and _key(shown[end][1]) == stimulus.key:
            end += 1
        if stimulus is not None:
            run = replace(stimulus, first=shown[start][0], last=shown[end - 1][0])
            result[start:end] = [run] * (end - start)
        start = end
    return result


def _key(stimulus: ShownStimulus | None) -> int | None:
    return stimulus.key if stimulus else None
