"""An item's metadata in the manifest: IEEE LOM as IMS Metadata 1.2 writes it.

What real packages use for an item's subject or competency is LOM ``classification``:
one ``taxonpath`` (``taxonPath`` in LOM 1.3) per taxonomy, each ``taxon`` with an ``id``
and an ``entry``. Every taxon found is a candidate competency code; the import keeps those
the framework knows. The export writes one classification whose purpose is
``competency`` with the framework's code as the taxonomy's source, the item's
competencies in order (the first is primary), the cognitive level as a second taxonomy,
the references as ``relation``s of kind ``isbasedon``, and the ref where the item's
identifier could not be the ref itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from item_bank.transfer.package import local

IMSMD = "http://www.imsglobal.org/xsd/imsmd_v1p2"
LEVEL_SOURCE = "cognitive-level"
REF_CATALOG = "csm-certify"


@dataclass
class Metadata:
    taxa: list[str] = field(default_factory=list)  # candidate competency codes, in order
    cognitive_level: str | None = None
    references: list[str] = field(default_factory=list)
    ref: str | None = None  # the bank's ref, when the package was written by this bank


def _children(element: Any, *names: str) -> list[Any]:
    wanted = {name.lower() for name in names}
    return [child for child in element if local(child.tag).lower() in wanted]


def _string(element: Any) -> str:
    """A LOM string: the text of its langstring (1.2) or string (1.3), or its own text."""
    for child in element:
        if local(child.tag).lower() in ("langstring", "string") and (child.text or "").strip():
            return " ".join(child.text.split())
    return " ".join((element.text or "").split())


def read_metadata(metadata: Any) -> Metadata:
    """What the item's ``<metadata>`` says, wherever in it the LOM sits."""
    found = Metadata()
    if metadata is None:
        return found
    for element in metadata.iter():
        name = local(element.tag).lower()
        if name == "taxonpath":
            source = next((_string(s) for s in _children(element, "source")), "")
            codes = [_taxon_code(taxon) for taxon in _children(element, "taxon")]
            if source == LEVEL_SOURCE:
                found.cognitive_level = next((c for c in codes if c), None)
            else:
                found.taxa += [code for code in codes if code and code not in found.taxa]
        elif name == "relation":
            found.references += [
                _string(d)
                for resource in _children(element, "resource")
                for d in _children(resource, "description")
                if _string(d)
            ]
        elif name == "catalogentry" and _children(element, "catalog"):
            catalog = _string(_children(element, "catalog")[0])
            entries = _children(element, "entry")
            if catalog == REF_CATALOG and entries:
                found.ref = _string(entries[0])
    return found


def _taxon_code(taxon: Any) -> str:
    """A taxon's code: its id, else its entry."""
    ids = [" ".join((i.text or "").split()) for i in _children(taxon, "id")]
    return next((value for value in ids if value), "") or next(
        (value for value in map(_string, _children(taxon, "entry")) if value), ""
    )


def _langstring(parent: Element, name: str, text: str) -> Element:
    element = SubElement(parent, f"{{{IMSMD}}}{name}")
    SubElement(element, f"{{{IMSMD}}}langstring").text = text
    return element


def _vocabulary(parent: Element, name: str, value: str) -> None:
    element = SubElement(parent, f"{{{IMSMD}}}{name}")
    _langstring(element, "source", "LOMv1.0")
    _langstring(element, "value", value)


def write_metadata(
    *,
    ref: str,
    framework_code: str,
    competencies: list[tuple[str, str]],
    cognitive_level: str,
    references: list[str],
    ref_in_metadata: bool = False,
) -> Element:
    """The ``<imsmd:lom>`` of one item: its ref, competencies (code, title), level, sources."""
    lom = Element(f"{{{IMSMD}}}lom")
    if ref_in_metadata:  # the identifier could not be the ref itself
        general = SubElement(lom, f"{{{IMSMD}}}general")
        entry = SubElement(general, f"{{{IMSMD}}}catalogentry")
        SubElement(entry, f"{{{IMSMD}}}catalog").text = REF_CATALOG
        _langstring(entry, "entry", ref)
    for reference in references:
        relation = SubElement(lom, f"{{{IMSMD}}}relation")
        _vocabulary(relation, "kind", "isbasedon")
        resource = SubElement(relation, f"{{{IMSMD}}}resource")
        _langstring(resource, "description", reference)
    _classification(lom, "competency", framework_code, competencies)
    _classification(lom, None, LEVEL_SOURCE, [(cognitive_level, "")])
    return lom


def _classification(
    lom: Element, purpose: str | None, source: str, taxa: list[tuple[str, str]]
) -> None:
    classification = SubElement(lom, f"{{{IMSMD}}}classification")
    if purpose:
        _vocabulary(classification, "purpose", purpose)
    path = SubElement(classification, f"{{{IMSMD}}}taxonpath")
    _langstring(path, "source", source)
    for code, title in taxa:
        taxon = SubElement(path, f"{{{IMSMD}}}taxon")
        SubElement(taxon, f"{{{IMSMD}}}id").text = code
        if title:
            _langstring(taxon, "entry", title)
