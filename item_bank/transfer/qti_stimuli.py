"""Shared stimuli in QTI, in and out.

In: QTI 2.2's ``<assessmentStimulusRef identifier href>`` (an ``assessmentStimulus`` file of
its own), and QTI 2.1's shared passage, an ``xi:include``d file or an ``<object>`` whose
data is an XHTML passage. The same file named by several items is one stimulus; the items
take their places in its set in package order. A passage's ``<img>``, image ``<object>`` and
``<audio>`` are its exhibits, read and checked as an item's media are (qti_media).

Out (QTI 2.1): each stimulus is one file, ``stimuli/<id>.xml``, whose root is a QTI
``div`` (the passage's title its first heading), included by each of its items with
``xi:include`` and listed in the manifest as a resource the items depend on, with the
files of its exhibits (written after its text as an item's media are). Both files
are valid against the QTI 2.1 schema, and the importer reads them back as they were.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from core.errors import Problem
from item_bank.transfer.markup import UnsupportedContent, markdown_blocks, plain_text, to_markdown
from item_bank.transfer.package import Package, local, parse_xml
from item_bank.transfer.qti_media import (
    FILES_KEY,
    ImportedFile,
    MediaProblem,
    MediaReader,
    media_href,
    take_media,
    write_media,
)

XI = "http://www.w3.org/2001/XInclude"
QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
PASSAGE_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml", "text/xml"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
STIMULUS_CLASS = "stimulus"
PREFIXED = re.compile(r"^_(?=[0-9.-])")
NCNAME_START = re.compile(r"^[A-Za-z_]")

register_namespace("xi", XI)


# ---- in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    href: str
    identifier: str | None


def _is_passage(element: Any) -> bool:
    name = local(element.tag)
    if name == "include":
        return str(element.tag).startswith(f"{{{XI}}}")
    if name != "object":
        return False
    data = (element.get("data") or "").lower()
    kind = (element.get("type") or "").lower()
    return kind in PASSAGE_TYPES or data.endswith((".xhtml", ".html", ".htm"))


def _detach(parent: Any, child: Any) -> None:
    """Take ``child`` out, keeping the text that followed it."""
    index = list(parent).index(child)
    tail = child.tail or ""
    if index:
        before = parent[index - 1]
        before.tail = (before.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(child)


def take_references(root: Any) -> list[Reference]:
    """The stimuli an item names, taken out of it so that its stem is what is left."""
    found: list[tuple[Any, Any, Reference]] = []
    for parent in root.iter():
        for child in parent:
            name = local(child.tag)
            if name == "assessmentStimulusRef" and child.get("href"):
                found.append((parent, child, Reference(child.get("href"), child.get("identifier"))))
            elif _is_passage(child) and (child.get("href") or child.get("data")):
                href = child.get("href") or child.get("data")
                found.append((parent, child, Reference(href, None)))
    for parent, child, _ in found:
        _detach(parent, child)
    return [reference for _, _, reference in found]


def _ref(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", PREFIXED.sub("", text))[:64] or "stimulus"


def _title_and_body(root: Any) -> tuple[str | None, Any, Any]:
    """The title the file gives, the element holding the passage and a heading to skip."""
    name = local(root.tag)
    if name == "assessmentStimulus":
        body = next((c for c in root if local(c.tag) == "stimulusBody"), None)
        if body is None:
            raise ValueError("has no stimulusBody")
        return root.get("title"), body, None
    if name == "html":
        head = next((c for c in root if local(c.tag) == "head"), None)
        title = next((c for c in head or () if local(c.tag) == "title"), None)
        body = next((c for c in root if local(c.tag) == "body"), None)
        if body is None:
            raise ValueError("has no body")
        root_title = plain_text(title) if title is not None else None
        return root_title or None, body, None
    heading = next(iter(root), None)
    if heading is not None and local(heading.tag) in HEADINGS and not (root.text or "").strip():
        return plain_text(heading) or None, root, heading
    return root.get("title") or root.get("label"), root, None


def read_stimulus(
    data: bytes,
    path: str,
    identifier: str | None,
    notes: list[str] | None = None,
    files: dict[str, ImportedFile] | None = None,
    package: Package | None = None,
) -> dict[str, Any]:
    """One stimulus file as the record's stimulus (ref, title, body, media), or a
    ValueError saying what is wrong with it; what had to be written otherwise goes to
    ``notes``. Its images and audio (``<img>``, ``<object>``, ``<audio>``, resolved against
    the stimulus file and checked as an item's are) are its exhibits; their files go to
    ``files``."""
    try:
        root = parse_xml(data, path)
    except Problem as problem:
        raise ValueError(problem.detail.removeprefix(f"{path}: ")) from problem
    title, body, skip = _title_and_body(root)
    try:
        media, found = take_media(body, Element("none"), MediaReader(package, path))
    except MediaProblem as problem:
        raise ValueError(f"holds a medium the bank cannot take: {problem.message}") from problem
    try:
        text = to_markdown(body, skip=skip, notes=notes)
    except UnsupportedContent as exc:
        raise ValueError(
            f"holds {exc}, which a scenario cannot hold: a scenario is text (paragraphs, "
            "lists, emphasis), images and audio"
        ) from exc
    if not text.strip():
        raise ValueError("holds no text")
    if files is not None:
        files.update(found)
    stem = posixpath.splitext(posixpath.basename(path))[0]
    ref = _ref(identifier or root.get("identifier") or root.get("id") or stem)
    title = " ".join((title or ref).split())[:200]
    # As an exported record carries it: the exhibits only when there are some.
    return {"ref": ref, "title": title, "body": text, **({"media": media} if media else {})}


@dataclass
class StimulusReader:
    """Reads each stimulus file once, and numbers the items of each set in package order."""

    package: Package | None
    found: dict[str, dict[str, Any] | str]
    places: dict[str, int]
    notes: dict[str, list[str]] = field(default_factory=dict)  # per file, for its items
    media: dict[str, dict[str, ImportedFile]] = field(default_factory=dict)  # per file

    @classmethod
    def of(cls, package: Package | None) -> StimulusReader:
        return cls(package, {}, {})

    @property
    def files(self) -> set[str]:
        return set(self.found)

    def _read(self, path: str, identifier: str | None) -> dict[str, Any] | str:
        if path not in self.found:
            if self.package is None or path not in self.package:
                where = "the package" if self.package is not None else "the upload"
                self.found[path] = f"The stimulus file {path} is not in {where}."
            else:
                try:
                    self.found[path] = read_stimulus(
                        self.package.read(path),
                        path,
                        identifier,
                        self.notes.setdefault(path, []),
                        self.media.setdefault(path, {}),
                        self.package,
                    )
                except ValueError as exc:
                    self.found[path] = f"The stimulus file {path} {str(exc).rstrip('.')}."
        return self.found[path]

    def resolve(self, record: dict[str, Any], references: list[Reference]) -> None:
        """Put the record on the stimulus its references name, or give it the error."""
        if not references or "_error" in record:
            return
        source = str(record.get("_source") or "")
        paths = {_resolved(source, reference.href) for reference in references}
        if len(paths) > 1:
            record["_error"] = f"It names {len(paths)} stimuli ({', '.join(sorted(paths))}); "
            record["_error"] += "an item is on one at most."
            record["_field"] = "stimulus"
            return
        path = paths.pop()
        found = self._read(path, references[0].identifier)
        if isinstance(found, str):
            record["_error"], record["_field"] = found, "stimulus"
            return
        # Places count per stimulus: one stimulus may come in files of several texts.
        self.places[found["ref"]] = self.places.get(found["ref"], 0) + 1
        record["stimulus"] = {**found, "position": self.places[found["ref"]]}
        if self.media.get(path):
            record[FILES_KEY] = {**record.get(FILES_KEY, {}), **self.media[path]}
        if self.notes.get(path):
            notes = [f"scenario {path}: {note}" for note in self.notes[path]]
            record["_notes"] = [*record.get("_notes", []), *notes]


def _resolved(source: str, href: str) -> str:
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source), href.replace("\\", "/")))
    return path if not path.startswith("../") else href


# ---- out -----------------------------------------------------------------------------


def identifier(ref: str) -> str:
    return ref if NCNAME_START.match(ref) else f"_{ref}"


def _text_key(link: dict[str, Any]) -> tuple[str, str, str]:
    return (link["ref"], link["title"], link["body"])


def prepared(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records in set order, each on a stimulus told its file: one file per text of a
    stimulus (items still on an older version of the passage keep theirs)."""
    files: dict[tuple[str, str, str], str] = {}
    out = []
    for record in in_set_order(records):
        link = record.get("stimulus")
        if link:
            key = _text_key(link)
            if key not in files:
                taken = sum(1 for other in files if other[0] == link["ref"])
                suffix = f"-{taken + 1}" if taken else ""
                files[key] = f"stimuli/{identifier(link['ref'])}{suffix}.xml"
            record = {**record, "_stimulus_file": files[key]}
        out.append(record)
    return out


def _resource_id(path: str) -> str:
    return "STIMULUS-" + posixpath.splitext(posixpath.basename(path))[0].lstrip("_")


def include_element(record: dict[str, Any]) -> Element:
    """What an item's body holds where its passage goes (the item file is in items/)."""
    return Element(f"{{{XI}}}include", {"href": f"../{record['_stimulus_file']}"})


def stimulus_xml(link: dict[str, Any], types: dict[str, str]) -> bytes:
    """The passage's file: its title, its text, then its exhibits (as an item's media are
    written: the file is in stimuli/, beside items/)."""
    root = Element(f"{{{QTI}}}div", {"id": identifier(link["ref"]), "class": STIMULUS_CLASS})
    SubElement(root, f"{{{QTI}}}h2").text = link["title"]
    root.extend(markdown_blocks(link["body"], QTI))
    write_media(root, QTI, link.get("media", []), types)
    return bytes(tostring(root, encoding="utf-8", xml_declaration=True))


def in_set_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with each set's items together in set order, where its first one was."""
    sets: dict[str, list[dict[str, Any]]] = {}
    ordered: list[list[dict[str, Any]]] = []
    for record in records:
        link = record.get("stimulus")
        if not link:
            ordered.append([record])
        elif link["ref"] in sets:
            sets[link["ref"]].append(record)
        else:
            sets[link["ref"]] = [record]
            ordered.append(sets[link["ref"]])
    for members in sets.values():
        members.sort(key=lambda r: (r["stimulus"].get("position") or 0, r["ref"]))
    return [record for group in ordered for record in group]


def stimulus_files(records: list[dict[str, Any]], types: dict[str, str]) -> dict[str, bytes]:
    """Each stimulus file of the (prepared) records, once."""
    return {
        record["_stimulus_file"]: stimulus_xml(record["stimulus"], types)
        for record in records
        if record.get("_stimulus_file")
    }


def add_dependency(resource: Element, record: dict[str, Any]) -> None:
    if record.get("_stimulus_file"):
        ref = _resource_id(record["_stimulus_file"])
        SubElement(resource, f"{{{CP}}}dependency", {"identifierref": ref})


def add_resources(resources: Element, records: list[dict[str, Any]], types: dict[str, str]) -> None:
    """A resource per stimulus file, listing the file and each of its exhibits' files."""
    links = {r["_stimulus_file"]: r["stimulus"] for r in records if r.get("_stimulus_file")}
    for path, link in links.items():
        resource = SubElement(
            resources,
            f"{{{CP}}}resource",
            {"identifier": _resource_id(path), "type": "webcontent", "href": path},
        )
        SubElement(resource, f"{{{CP}}}file", {"href": path})
        for medium in link.get("media", []):
            href = media_href(medium["sha256"], types[medium["sha256"]])
            SubElement(resource, f"{{{CP}}}file", {"href": href})
