"""Shared stimuli: writing and editing passages, and the items written on them.

An edit never changes a stimulus version: it adds the next one. Draft items on the
stimulus follow it at once; an approved item keeps the passage it was approved with until
its next version goes through review, so no form already drawn, and no live item, changes
under anyone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank.media_models import StimulusVersionMedia
from item_bank.models import Framework, ItemStatus, ItemVersion
from item_bank.rendering import same_markdown
from item_bank.schemas import StimulusContent, StimulusLink
from item_bank.services.checks import ItemInvalid
from item_bank.services.media_rules import media_errors
from item_bank.stimulus_models import Stimulus, StimulusVersion

EDITOR_ROLES = ("item_writer",)


def get_stimulus(session: Session, ref: str) -> Stimulus | None:
    return session.scalars(select(Stimulus).where(Stimulus.ref == ref)).one_or_none()


def require_stimulus(session: Session, stimulus_id: int) -> Stimulus:
    stimulus = session.get(Stimulus, stimulus_id)
    if stimulus is None:
        raise Problem(404, "No such stimulus", f"There is no stimulus {stimulus_id}.")
    return stimulus


def require_stimulus_ref(session: Session, ref: str) -> Stimulus:
    stimulus = get_stimulus(session, ref)
    if stimulus is None:
        raise Problem(404, "No such stimulus", f"There is no stimulus {ref}.")
    return stimulus


@dataclass(frozen=True)
class StimulusRow:
    stimulus: Stimulus
    items: int  # items whose newest version is on this stimulus


def list_stimuli(session: Session, framework_id: int) -> list[StimulusRow]:
    counts = dict(
        session.execute(
            select(StimulusVersion.stimulus_id, func.count(func.distinct(ItemVersion.item_id)))
            .join(ItemVersion, ItemVersion.stimulus_version_id == StimulusVersion.id)
            .where(ItemVersion.status != ItemStatus.SUPERSEDED)
            .group_by(StimulusVersion.stimulus_id)
        ).all()
    )
    stimuli = session.scalars(
        select(Stimulus).where(Stimulus.framework_id == framework_id).order_by(Stimulus.ref)
    ).all()
    return [StimulusRow(stimulus, counts.get(stimulus.id, 0)) for stimulus in stimuli]


def set_members(session: Session, stimulus: Stimulus) -> list[ItemVersion]:
    """The newest version of each item on the stimulus, in set order."""
    versions = session.scalars(
        select(ItemVersion)
        .join(StimulusVersion, StimulusVersion.id == ItemVersion.stimulus_version_id)
        .where(StimulusVersion.stimulus_id == stimulus.id)
    ).all()
    newest: dict[int, ItemVersion] = {}
    for version in versions:
        if version.item_id not in newest or version.number > newest[version.item_id].number:
            newest[version.item_id] = version
    on_it = [v for v in newest.values() if v.item.head.id == v.id]
    return sorted(on_it, key=lambda v: (v.stimulus_position or 0, v.item.ref))


def _new_ref(session: Session) -> str:
    while True:
        ref = f"S-{secrets.token_hex(3)}"
        if get_stimulus(session, ref) is None:
            return ref


@dataclass(frozen=True)
class Text:
    """What a version holds: its title, its passage and its exhibits (as entries)."""

    title: str
    body: str
    media: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(cls, title: str, body: str, media: list[dict[str, str]]) -> Text:
        return cls(title, body, tuple((m["sha256"], m["alt"], m["transcript"]) for m in media))

    @classmethod
    def of_version(cls, version: StimulusVersion) -> Text:
        return cls.of(version.title, version.body, version.media_entries())

    def same(self, other: Text, media: bool = True) -> bool:
        """The same title (and media, unless not asked), and a passage that shows the same."""
        if media and self.media != other.media:
            return False
        return self.title == other.title and same_markdown(self.body, other.body)


def _add_version(stimulus: Stimulus, text: Text, actor_id: int | None) -> StimulusVersion:
    number = stimulus.versions[-1].number + 1 if stimulus.versions else 1
    version = StimulusVersion(
        number=number,
        title=text.title,
        body=text.body,
        created_by=actor_id,
        created_at=clock.now(),
        media=[
            StimulusVersionMedia(position=position, sha256=sha, alt=alt, transcript=transcript)
            for position, (sha, alt, transcript) in enumerate(text.media)
        ],
    )
    stimulus.versions.append(version)
    return version


def _make(
    session: Session, framework: Framework, ref: str, text: Text, actor_id: int | None
) -> Stimulus:
    stimulus = Stimulus(
        ref=ref, framework_id=framework.id, created_by=actor_id, created_at=clock.now(), revision=1
    )
    session.add(stimulus)
    _add_version(stimulus, text, actor_id)
    session.flush()
    return stimulus


def _check_media(session: Session, content: StimulusContent) -> None:
    """Every exhibit a stored file, an image with alt text, audio with a transcript."""
    errors = media_errors(session, content.media)
    if errors:
        raise ItemInvalid(errors)


def _content_text(content: StimulusContent) -> Text:
    return Text.of(content.title, content.body, [m.model_dump() for m in content.media])


def _shown(version: StimulusVersion) -> dict[str, object]:
    """A version as an audit row keeps it."""
    return {
        "version": version.number,
        "title": version.title,
        "body": version.body[:200],
        "media": [m.sha256[:12] for m in version.media],  # short enough to read in a trail
    }


def create_stimulus(
    session: Session, actor: Actor, framework: Framework, content: StimulusContent
) -> Stimulus:
    """A new stimulus at version 1; audited."""
    ref = content.ref or _new_ref(session)
    if get_stimulus(session, ref) is not None:
        raise Problem(
            409,
            "Reference taken",
            f"A stimulus with ref {ref} exists.",
            errors=[FieldError("ref", "Already used.")],
        )
    _check_media(session, content)
    stimulus = _make(session, framework, ref, _content_text(content), actor.id)
    audit.record(
        session,
        actor_id=actor.id,
        action="stimulus.created",
        object_type="stimulus",
        object_id=stimulus.id,
        after={"ref": ref, **_shown(stimulus.current)},
    )
    session.commit()
    return stimulus


def update_stimulus(
    session: Session, actor: Actor, stimulus: Stimulus, content: StimulusContent
) -> StimulusVersion:
    """The next version of the passage (none when its text and exhibits are unchanged);
    drafts follow it."""
    if content.ref and content.ref != stimulus.ref:
        raise ItemInvalid([FieldError("ref", "A stimulus's ref never changes.")])
    if content.revision is None or content.revision != stimulus.revision:
        raise Problem(
            409,
            "Edited by someone else",
            f"This stimulus changed since you opened it (revision {stimulus.revision}, "
            f"yours {content.revision}). Reload it and apply your change again.",
            errors=[FieldError("revision", f"Send the current revision, {stimulus.revision}.")],
            extra={"revision": stimulus.revision},
        )
    _check_media(session, content)
    current = stimulus.current
    text = _content_text(content)
    if Text.of_version(current) == text:
        return current
    version = _add_version(stimulus, text, actor.id)
    stimulus.revision += 1
    session.flush()
    moved = _move_drafts(session, stimulus, version)
    audit.record(
        session,
        actor_id=actor.id,
        action="stimulus.version_created",
        object_type="stimulus",
        object_id=stimulus.id,
        before=_shown(current),
        after={**_shown(version), "drafts_moved": moved},
    )
    session.commit()
    return version


def _move_drafts(session: Session, stimulus: Stimulus, version: StimulusVersion) -> list[str]:
    """Draft item versions on an older version of the passage now show this one."""
    drafts = session.scalars(
        select(ItemVersion)
        .join(StimulusVersion, StimulusVersion.id == ItemVersion.stimulus_version_id)
        .where(StimulusVersion.stimulus_id == stimulus.id, ItemVersion.status == ItemStatus.DRAFT)
    ).all()
    for draft in drafts:
        draft.stimulus_version_id = version.id
        draft.stimulus_version = version
        draft.item.revision += 1
    return sorted(draft.item.ref for draft in drafts)


# ---- items on a stimulus ----------------------------------------------------------


def _matching_version(stimulus: Stimulus, text: Text, media: bool = True) -> StimulusVersion | None:
    """The version holding ``text``; without ``media`` (a record that does not carry the
    exhibits, such as a CSV) the newest version with its title and passage."""
    versions = stimulus.versions if media else list(reversed(stimulus.versions))
    return next((v for v in versions if Text.of_version(v).same(text, media)), None)


def _link_text(link: StimulusLink, stimulus: Stimulus | None = None) -> Text:
    """The link's text; a link without media keeps the exhibits of ``stimulus``'s current
    version."""
    if link.media is None and stimulus is not None:
        kept = stimulus.current.media_entries()
        return Text.of(link.title or "", link.body or "", kept)
    return Text.of(link.title or "", link.body or "", link.media_entries())


def _find_version(stimulus: Stimulus, link: StimulusLink) -> StimulusVersion | None:
    return _matching_version(stimulus, _link_text(link), media=link.media is not None)


def _audit_from_item(
    session: Session, version: StimulusVersion, actor_id: int | None, actor_label: str | None
) -> None:
    """A passage an item's record brought with it is audited like one written on its page."""
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="stimulus.created" if version.number == 1 else "stimulus.version_created",
        object_type="stimulus",
        object_id=version.stimulus_id,
        after={"ref": version.stimulus.ref, **_shown(version), "source": "item record"},
    )


def planned_scenario(session: Session, link: StimulusLink) -> str | None:
    """What :func:`resolve_link` would make of a link, for a dry run's report: "new" or
    "new version 3 (was 2)"; None when it would make nothing."""
    if link.title is None or link.body is None:
        return None
    stimulus = get_stimulus(session, link.ref)
    if stimulus is None:
        return "new"
    if _find_version(stimulus, link) is not None:
        return None
    current = stimulus.versions[-1].number
    return f"new version {current + 1} (was {current})"


def resolve_link(
    session: Session,
    framework: Framework,
    link: StimulusLink,
    actor_id: int | None,
    actor_label: str | None = None,
) -> StimulusVersion:
    """The stimulus version a link means: its text's version (made when new), else the
    stimulus's current version. Writes nothing but a new stimulus or version (audited)."""
    if (link.title is None) != (link.body is None):
        raise ItemInvalid([FieldError("stimulus", "Give the stimulus's title and body together.")])
    stimulus = get_stimulus(session, link.ref)
    if stimulus is not None and stimulus.framework_id != framework.id:
        raise ItemInvalid([FieldError("stimulus", f"Stimulus {link.ref} is another framework's.")])
    if link.title is None or link.body is None:
        if stimulus is None:
            raise ItemInvalid([FieldError("stimulus", f"No stimulus with ref {link.ref}.")])
        return stimulus.current
    if stimulus is None:
        made = _make(session, framework, link.ref, _link_text(link), actor_id).current
        _audit_from_item(session, made, actor_id, actor_label)
        return made
    found = _find_version(stimulus, link)
    if found is not None:
        return found
    version = _add_version(stimulus, _link_text(link, stimulus), actor_id)
    stimulus.revision += 1
    session.flush()
    _audit_from_item(session, version, actor_id, actor_label)
    return version


def next_position(session: Session, stimulus_id: int, item_id: int | None) -> int:
    query = (
        select(func.max(ItemVersion.stimulus_position))
        .join(StimulusVersion, StimulusVersion.id == ItemVersion.stimulus_version_id)
        .where(StimulusVersion.stimulus_id == stimulus_id)
    )
    if item_id is not None:
        query = query.where(ItemVersion.item_id != item_id)
    return (session.scalar(query) or 0) + 1


def attach(
    session: Session,
    framework: Framework,
    version: ItemVersion,
    link: StimulusLink | None,
    actor_id: int | None,
    previous: ItemVersion | None = None,
    actor_label: str | None = None,
) -> None:
    """Put ``version`` on the linked stimulus (or on none); without a position it keeps
    the place ``previous`` had on the same stimulus, else it goes last."""
    if link is None:
        version.stimulus_version_id = None
        version.stimulus_version = None
        version.stimulus_position = None
        return
    target = resolve_link(session, framework, link, actor_id, actor_label)
    position = link.position
    before = previous.stimulus_version if previous is not None else None
    if position is None and before is not None and before.stimulus_id == target.stimulus_id:
        position = previous.stimulus_position if previous is not None else None
    if position is None:
        position = next_position(session, target.stimulus_id, version.item_id)
    version.stimulus_version = target
    version.stimulus_version_id = target.id
    version.stimulus_position = position


def same_link(version: ItemVersion, link: StimulusLink | None) -> bool:
    """Whether ``link`` leaves the version where it is (an import's "unchanged")."""
    shown = version.stimulus_version
    if link is None or shown is None:
        return link is None and shown is None
    if link.ref != shown.stimulus.ref:
        return False
    if link.position is not None and link.position != version.stimulus_position:
        return False
    if link.title is None or link.body is None:
        return True
    return Text.of_version(shown).same(_link_text(link), media=link.media is not None)
