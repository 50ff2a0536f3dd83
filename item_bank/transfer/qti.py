"""QTI 2.1 / 2.2 choice items in: one ``assessmentItem`` file, or a content package.

A package is read as tools write it: its ``imsmanifest.xml`` says which resources are
items (``imsqti_item_xmlv2p1``, ``..v2p2`` and the APIP kinds); tests, sections, stimuli
and anything else are reported as skipped and never fail the package. Each item becomes
an exchange record, or a refusal naming its file, its identifier and what the bank
cannot hold (another interaction, media, a scoring rule). Feedback never reaches the
stem or an option: it is the item's rationale, which only staff see. A package without a
manifest is read file by file.

Records carry what only the import needs under keys starting with ``_``: the file
(``_source``), a refusal (``_error``, ``_field``), the competency codes the metadata
names (``_taxa``), notes for the report (``_notes``), ``_unsupported`` (an item whose
interaction the bank has no type for: reported refused, the package's other items
imported) and ``_keep_enemies`` (QTI says nothing of enemies, so an import leaves an
existing item's enemies as they are).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import Problem
from item_bank.schemas import ANY_NUMBER, LETTERS, TRUE_FALSE_OPTIONS
from item_bank.transfer.lom import Metadata, read_metadata
from item_bank.transfer.markup import UnsupportedContent, inline_markdown, plain_text, to_markdown
from item_bank.transfer.package import ITEM_TYPES, Package, Resource, local, parse_xml
from item_bank.transfer.qti_media import FILES_KEY, MediaProblem, MediaReader, take_media
from item_bank.transfer.qti_stimuli import StimulusReader, take_references

NO_RATIONALE = "Imported from QTI without feedback; add a rationale."
# The report line of a map_response item: the bank keeps keys, the blueprint decides credit.
MAPPED_NOTE = (
    "map_response: scored all-or-nothing unless the exam's blueprint allows partial credit "
    "(then right picks less wrong ones, per key, as this mapping does); the package's "
    "per-option mapping is not kept"
)
RP_TEMPLATES = ("match_correct", "map_response")
# Elements the bank cannot carry, and why (images and audio it takes: qti_media).
UNCARRIED = {
    "video": "video is not supported (an item holds text, lists, images and audio)",
    "math": "MathML is not supported; write the formula as text or show it as an image",
    "svg": "inline SVG is not supported; put the drawing in an .svg file shown by <img>",
    "include": "an included file is read only as a shared passage (an XHTML passage)",
}
# A record the import reports as refused and leaves out, taking the package's other items.
UNSUPPORTED_KEY = "_unsupported"
# An identifier the export had to prefix to make it an NCName (a ref may start with a digit).
PREFIXED = re.compile(r"^_(?=[0-9.-])")


@dataclass
class Upload:
    """What a file gave: its records, what it skipped and notes for the report."""

    records: list[Any]
    skipped: list[str] = field(default_factory=list)


class Refused(Exception):
    """One item the bank cannot take, with the field and the reason."""

    def __init__(self, field_name: str, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.unsupported = unsupported  # an interaction the bank has no item type for


def _ref(identifier: str, metadata_ref: str | None) -> str:
    if metadata_ref:
        return metadata_ref[:64]
    return re.sub(r"[^A-Za-z0-9._-]", "-", PREFIXED.sub("", identifier))[:64]


def _find(elements: list[Any], name: str) -> list[Any]:
    return [e for e in elements if local(e.tag) == name]


def _by_name(root: Any) -> dict[str, list[Any]]:
    """Every element of the document by its local name, in document order."""
    found: dict[str, list[Any]] = {}
    for element in root.iter():
        found.setdefault(local(element.tag), []).append(element)
    return found


def _interaction(elements: dict[str, list[Any]]) -> Any:
    interactions = [
        e for name, group in elements.items() if name.endswith("Interaction") for e in group
    ]
    unsupported = sorted({local(e.tag) for e in interactions} - {"choiceInteraction"})
    if unsupported:
        raise Refused(
            "interaction",
            f"{', '.join(unsupported)} is not supported: the bank holds choice items "
            "(choiceInteraction) only.",
            unsupported=True,
        )
    if not interactions:
        raise Refused("interaction", "The item has no interaction; the bank holds choice items.")
    if len(interactions) > 1:
        raise Refused(
            "interaction",
            f"The item has {len(interactions)} choiceInteractions; the bank holds one "
            "question per item.",
        )
    return interactions[0]


def _values(element: Any) -> list[str]:
    """The ``<value>``s of a correctResponse (none when there is no such element)."""
    if element is None:
        return []
    texts = (
        " ".join("".join(v.itertext()).split()) for v in element.iter() if local(v.tag) == "value"
    )
    return [text for text in texts if text]


def _scoring(root: Any, declaration: Any) -> str:
    """Which template the item's response processing is: match_correct or map_response."""
    processing = next((e for e in root if local(e.tag) == "responseProcessing"), None)
    if processing is None:
        return "map_response" if _find(list(declaration.iter()), "mapping") else "match_correct"
    template = (processing.get("template") or "").rstrip("/").rsplit("/", 1)[-1]
    template = template.removesuffix(".xml")
    if template in RP_TEMPLATES:
        return template
    if template:
        raise Refused(
            "responseProcessing",
            f"Response processing template {template} is not supported "
            "(match_correct and map_response are).",
        )
    names = {local(e.tag) for e in processing.iter()}
    if "mapResponse" in names:
        return "map_response"
    if {"match", "correct"} <= names:
        return "match_correct"
    raise Refused(
        "responseProcessing",
        "Custom response processing is not supported: the bank scores by the key "
        "(match_correct) or by the partial-credit rule (map_response).",
    )


def _mapped_keys(declaration: Any, ids: list[str], keys: list[str]) -> list[str]:
    """The keys of a map_response item whose mapping a key set can express: every key the
    same gain, every other option the same loss, floored at 0 and not capped below the
    keys' sum (what ``grading.score_item`` gives when a blueprint allows partial credit).
    The mapping itself is not kept: the bank scores by keys and the blueprint's rule."""
    mapping = next((e for e in declaration if local(e.tag) == "mapping"), None)
    if mapping is None:
        raise Refused("responseDeclaration", "map_response scoring without a <mapping>.")
    default = float(mapping.get("defaultValue") or 0)
    values = {choice: default for choice in ids}
    for entry in mapping:
        if local(entry.tag) == "mapEntry" and entry.get("mapKey") in values:
            values[entry.get("mapKey", "")] = float(entry.get("mappedValue") or 0)
    positive = [choice for choice in ids if values[choice] > 0]
    gains = {values[c] for c in positive}
    losses = {values[c] for c in ids if c not in positive}
    gain = next(iter(gains), 0.0)
    upper = float(mapping.get("upperBound") or "inf")
    rule = (
        len(gains) == 1
        and losses == {-gain}
        and float(mapping.get("lowerBound", "nan")) == 0
        and upper >= gain * len(positive)
        and (keys == [] or sorted(keys) == sorted(positive))
    )
    if not rule:
        described = ", ".join(f"{c} {values[c]:+g}" for c in ids)
        bounds = f"lower bound {mapping.get('lowerBound', 'none')}"
        bounds += f", upper bound {mapping.get('upperBound')}" if mapping.get("upperBound") else ""
        raise Refused(
            "responseDeclaration",
            f"map_response scores {described} ({bounds}): the bank scores a multiple-response "
            "item by its keys, so a mapping can be imported only when the same gain per key, "
            "the same loss per other option, a lower bound of 0 and no upper bound below the "
            "keys' sum express it (the blueprint's partial-credit rule). Change the mapping "
            "or use match_correct.",
        )
    return positive


def _single_key(declaration: Any, ids: list[str]) -> list[str]:
    """A single-choice map_response item without a correctResponse: its one choice that
    scores above nothing is the key."""
    mapping = next((e for e in declaration if local(e.tag) == "mapping"), None)
    entries = [] if mapping is None else [e for e in mapping if local(e.tag) == "mapEntry"]
    best = [e.get("mapKey", "") for e in entries if float(e.get("mappedValue") or 0) > 0]
    if len(best) != 1 or best[0] not in ids:
        raise Refused(
            "responseDeclaration",
            "map_response with no correctResponse and not exactly one choice that scores: "
            "the bank needs one key.",
        )
    return best


def _choose(interaction: Any, keys: list[str], options: int) -> int:
    most = int(interaction.get("maxChoices") or 1)
    if most == ANY_NUMBER or most >= options:
        return ANY_NUMBER
    if most == len(keys):
        return most
    raise Refused(
        "maxChoices",
        f'maxChoices="{most}" with {len(keys)} keys: the bank asks for exactly as many '
        'choices as keys, or any number (maxChoices="0").',
    )


def _staff_text(element: Any) -> bool:
    """Feedback, or a rubric for anyone but the candidate (a scorer's, an author's)."""
    name = local(element.tag)
    if name == "rubricBlock":
        return "candidate" not in (element.get("view") or "").split()
    return name in ("modalFeedback", "feedbackBlock")


def _rationale(root: Any, choices: list[Any], notes: list[str]) -> str:
    """Everything staff only may read, as the rationale: feedback (inline feedback in the
    stem or a prompt too), per-option feedback as ``A: ...``, and rubrics for scorers or
    authors. Each in document order, once (feedback inside feedback is part of its text)."""
    in_choices = {id(e) for choice in choices for e in choice.iter()}
    parts = []
    stack = [iter(root)]
    while stack:  # a walk without recursion: a deep document cannot exhaust the stack
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
        elif _staff_text(element) or (
            local(element.tag) == "feedbackInline" and id(element) not in in_choices
        ):
            parts.append(plain_text(element, notes))
        else:
            stack.append(iter(element))
    for letter, choice in zip(LETTERS, choices, strict=False):
        for inline in _find(list(choice.iter()), "feedbackInline"):
            parts.append(f"{letter}: {plain_text(inline, notes)}")
    return "\n\n".join(part for part in parts if part) or NO_RATIONALE


def _why_not(element: str) -> str:
    """Why an element the bank cannot carry is refused, saying what an item does hold."""
    return UNCARRIED.get(
        element,
        "an item shows images and audio (<img>, <object>, <audio>) after its stem only, "
        "not inside a choice, a prompt or feedback",
    )


def _item(root: Any, metadata: Metadata, reader: MediaReader) -> dict[str, Any]:
    """One ``assessmentItem`` as an exchange record; a :class:`Refused` when it cannot be."""
    if local(root.tag) != "assessmentItem":
        raise Refused("record", f"Not a QTI assessmentItem (the root is <{local(root.tag)}>).")
    if root.get("adaptive") == "true":
        raise Refused(
            "record", "Adaptive items (attempts with feedback between) are not supported."
        )
    elements = _by_name(root)
    if "templateDeclaration" in elements or "templateProcessing" in elements:
        raise Refused("record", "Item templates (templateProcessing) are not supported.")
    interaction = _interaction(elements)
    response_id = interaction.get("responseIdentifier", "RESPONSE")
    declaration = next(
        (e for e in elements.get("responseDeclaration", []) if e.get("identifier") == response_id),
        None,
    )
    if declaration is None:
        raise Refused("responseDeclaration", f"No responseDeclaration for {response_id}.")
    cardinality = declaration.get("cardinality", "single")
    if cardinality not in ("single", "multiple"):
        raise Refused("responseDeclaration", f"Cardinality {cardinality} is not supported.")
    choices = [e for e in interaction if local(e.tag) == "simpleChoice"]
    if len(choices) > len(LETTERS):
        raise Refused("options", f"{len(choices)} choices; the bank holds at most {len(LETTERS)}.")
    ids = [choice.get("identifier", "") for choice in choices]
    letters = dict(zip(ids, LETTERS, strict=False))
    correct = _values(next(iter(_find(list(declaration), "correctResponse")), None))
    scoring = _scoring(root, declaration)
    notes = []
    if scoring == "map_response" and cardinality == "multiple":
        correct = _mapped_keys(declaration, ids, correct)
        notes.append(MAPPED_NOTE)
    elif scoring == "map_response" and not correct:
        correct = _single_key(declaration, ids)
    unknown = [value for value in correct if value not in letters]
    if unknown:
        raise Refused("keys", f"The correct response {', '.join(unknown)} is not a choice.")
    body = next(iter(elements.get("itemBody", [])), root)
    try:
        media, files = take_media(body, interaction, reader)
    except MediaProblem as problem:
        raise Refused("media", problem.message) from problem
    try:
        stem_parts = [to_markdown(body, skip=interaction, notes=notes)]
        stem_parts += [to_markdown(e, notes=notes) for e in interaction if local(e.tag) == "prompt"]
        options = [inline_markdown(choice, notes) for choice in choices]
        rationale = _rationale(root, choices, notes)
    except UnsupportedContent as exc:
        raise Refused("stem", f"{exc} is not imported: {_why_not(exc.element_name)}.") from exc
    multiple = cardinality == "multiple"
    item_type = "multiple_response" if multiple else "single_choice"
    if not multiple and options == TRUE_FALSE_OPTIONS:
        item_type = "true_false"
    # No label: the title names the item, unless it only repeats the identifier.
    title = root.get("title") or ""
    ident = root.get("identifier") or ""
    label = root.get("label") or (title if title not in (ident, PREFIXED.sub("", ident)) else "")
    return {
        "type": item_type,
        "stem": "\n\n".join(part for part in stem_parts if part),
        "options": options,
        "keys": sorted(letters[value] for value in correct),
        "choose": _choose(interaction, correct, len(choices)) if multiple else None,
        "shuffle": interaction.get("shuffle") == "true",
        "fixed": [letters[c.get("identifier", "")] for c in choices if c.get("fixed") == "true"],
        "label": " ".join(label.split())[:256],
        "rationale": rationale,
        "references": metadata.references,
        "competencies": [],
        "cognitive_level": metadata.cognitive_level or "recall",
        "enemies": [],
        "_taxa": metadata.taxa,
        "_notes": notes,
        "_keep_enemies": True,
        **({"media": media, FILES_KEY: files} if media else {}),
    }


def read_item(
    data: bytes, source: str, resource: Resource | None = None, package: Package | None = None
) -> dict[str, Any]:
    """One item file as a record, or a record that only says why it was refused."""
    fallback = (
        resource.identifier if resource else posixpath.splitext(posixpath.basename(source))[0]
    )
    base: dict[str, Any] = {"_source": source, "ref": _ref(fallback, None)}
    try:
        root = parse_xml(data, source)
    except Problem as problem:
        return {**base, "_error": problem.detail.removeprefix(f"{source}: "), "_field": "record"}
    metadata = read_metadata(resource.metadata if resource else None)
    base["ref"] = _ref(root.get("identifier") or fallback, metadata.ref)
    references = take_references(root)
    try:
        return {
            **base,
            **_item(root, metadata, MediaReader(package, source)),
            "_stimulus_refs": references,
        }
    except Refused as refused:
        marked = {UNSUPPORTED_KEY: True} if refused.unsupported else {}
        return {**base, "_error": refused.message, "_field": refused.field, **marked}


def _dependency_note(
    resource: Resource, hrefs: dict[str, list[str]], record: dict[str, Any], read: set[str]
) -> str | None:
    """The files a resource lists that no part of the import took: its media or stimuli."""
    taken = {file.name for file in record.get(FILES_KEY, {}).values()} | read
    listed = [*resource.files, *(name for d in resource.dependencies for name in hrefs.get(d, [d]))]
    files = [name for name in listed if name not in taken]
    return (
        f"left out, the bank keeps text, images and audio only: {', '.join(files)}"
        if files
        else None
    )


def parse_qti(
    data: bytes, name: str = "upload.xml", progress: Callable[[int], None] | None = None
) -> Upload:
    """A single QTI item file, or a content package (zip) of them; ``progress`` is told of
    every item read (a package's resources can be thousands)."""
    if data[:2] != b"PK":
        record = read_item(data, name)
        StimulusReader.of(None).resolve(record, record.pop("_stimulus_refs", []))
        return Upload([record])
    package = Package(data, name)
    reader = StimulusReader.of(package)
    resources = package.manifest()
    if not resources:  # no manifest, or one that lists nothing: every XML file is read
        return _without_stimuli(_without_manifest(package, reader), reader)
    # What each resource stands for: its main file, else the files it lists.
    hrefs = {r.identifier: [r.href] if r.href else r.files for r in resources}
    used = {d for r in resources if r.type in ITEM_TYPES for d in r.dependencies}
    upload = Upload([])
    for resource in resources:
        if resource.type not in ITEM_TYPES:
            if resource.identifier not in used:
                upload.skipped.append(f"{resource.kind} {resource.href or resource.identifier}")
            continue
        if resource.href not in package:
            upload.records.append(
                {
                    "_source": resource.href or "imsmanifest.xml",
                    "ref": _ref(resource.identifier, None),
                    "_error": "The manifest names this file but the package does not hold it.",
                    "_field": "record",
                }
            )
            continue
        record = read_item(package.read(resource.href), resource.href, resource, package)
        reader.resolve(record, record.pop("_stimulus_refs", []))
        note = _dependency_note(resource, hrefs, record, reader.files)
        if note and "_error" not in record:
            record["_notes"] = [*record.get("_notes", []), note]
        upload.records.append(record)
        if progress:
            progress(1)
    return _without_stimuli(upload, reader)


def _without_stimuli(upload: Upload, reader: StimulusReader) -> Upload:
    """The stimulus files read for items are no skipped resources."""
    upload.skipped = [e for e in upload.skipped if e.split(" ", 1)[-1] not in reader.files]
    return upload


def _without_manifest(package: Package, reader: StimulusReader) -> Upload:
    upload = Upload([])
    for member in package.names():
        if not member.lower().endswith(".xml") or member == "imsmanifest.xml":
            continue
        data = package.read(member)
        if b"assessmentItem" not in data[:4096]:
            try:
                root_name = local(parse_xml(data, member).tag)
            except Problem:
                root_name = "file"
            upload.skipped.append(f"{root_name} {member}")
            continue
        record = read_item(data, member, package=package)
        reader.resolve(record, record.pop("_stimulus_refs", []))
        upload.records.append(record)
    return upload
