"""QTI 2.1 out: a content package with ``imsmanifest.xml`` and one ``assessmentItem`` per item.

Every file is valid against the official QTI 2.1 and IMS Content Packaging 1.1 schemas.
The stem and options are rendered from the bank's Markdown into XHTML, the key is the
correct response (``match_correct``, a multiple-response item's too: partial credit is
the blueprint's rule, not the item's, so there is no mapping to write), shuffle and fixed
options are the interaction's own attributes, the rationale is a ``modalFeedback`` that no
outcome ever shows to a candidate, and the label is the item's label. The manifest carries
what QTI has no place for as LOM metadata: the competencies, the cognitive level, the
references and the ref.
What the importer reads back from it is exactly what was written, so an item survives
QTI -> bank -> QTI -> bank unchanged.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from item_bank.schemas import ANY_NUMBER, LETTERS
from item_bank.transfer import qti_stimuli
from item_bank.transfer.lom import IMSMD, write_metadata
from item_bank.transfer.markup import markdown_blocks, markdown_inline
from item_bank.transfer.qti_media import media_bytes, media_href, write_media

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
QTI_LOCATION = f"{QTI} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_LOCATION = (
    f"{CP} http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
    f"{IMSMD} http://www.imsglobal.org/xsd/imsmd_v1p2p4.xsd"
)
NCNAME_START = re.compile(r"^[A-Za-z_]")
PROGRESS_STEP = 500  # items between two advances of a progress bar

for prefix, uri in (("", QTI), ("xsi", XSI), ("imsmd", IMSMD)):
    register_namespace(prefix, uri)


def identifier(ref: str) -> str:
    """The item's QTI identifier: its ref, prefixed with ``_`` when a ref could not be an
    NCName (it starts with a digit, a dot or a dash); the importer takes the prefix off."""
    return ref if NCNAME_START.match(ref) else f"_{ref}"


def _q(name: str) -> str:
    return f"{{{QTI}}}{name}"


def _copy_inline(target: Element, markdown: str) -> None:
    wrapper = markdown_inline(markdown, QTI)
    target.text = wrapper.text
    target.extend(list(wrapper))


def _rationale(parent: Element, text: str) -> None:
    for paragraph in text.split("\n\n"):
        p = SubElement(parent, _q("p"))
        lines = paragraph.split("\n")
        p.text = lines[0]
        for line in lines[1:]:
            SubElement(p, _q("br")).tail = line


def item_element(record: dict[str, Any], types: dict[str, str] | None = None) -> Element:
    """One exchange record as a QTI 2.1 ``assessmentItem``."""
    ident = identifier(record["ref"])
    attributes = {
        "identifier": ident,
        "title": record.get("label") or record["ref"],
        "adaptive": "false",
        "timeDependent": "false",
        "toolName": "CSM Certify",
        f"{{{XSI}}}schemaLocation": QTI_LOCATION,
    }
    if record.get("label"):
        attributes["label"] = record["label"]
    root = Element(_q("assessmentItem"), attributes)
    multiple = record["type"] == "multiple_response"
    declaration = SubElement(
        root,
        _q("responseDeclaration"),
        {
            "identifier": "RESPONSE",
            "cardinality": "multiple" if multiple else "single",
            "baseType": "identifier",
        },
    )
    correct = SubElement(declaration, _q("correctResponse"))
    for key in record["keys"]:
        SubElement(correct, _q("value")).text = key
    SubElement(
        root,
        _q("outcomeDeclaration"),
        {"identifier": "SCORE", "cardinality": "single", "baseType": "float"},
    )
    SubElement(
        root,
        _q("outcomeDeclaration"),
        {"identifier": "FEEDBACK", "cardinality": "single", "baseType": "identifier"},
    )
    body = SubElement(root, _q("itemBody"))
    if record.get("_stimulus_file"):
        body.append(qti_stimuli.include_element(record))
    body.extend(markdown_blocks(record["stem"], QTI))
    write_media(body, QTI, record.get("media", []), types or {})
    choose = record.get("choose")
    interaction = SubElement(
        body,
        _q("choiceInteraction"),
        {
            "responseIdentifier": "RESPONSE",
            "shuffle": "true" if record.get("shuffle", True) else "false",
            "maxChoices": str(choose if multiple and choose is not None else 1),
            "minChoices": "1" if choose == ANY_NUMBER and multiple else str(choose or 1),
        },
    )
    fixed = set(record.get("fixed", []))
    for letter, option in zip(LETTERS, record["options"], strict=False):
        choice = SubElement(
            interaction,
            _q("simpleChoice"),
            {"identifier": letter, "fixed": "true" if letter in fixed else "false"},
        )
        _copy_inline(choice, option)
    SubElement(root, _q("responseProcessing"), {"template": MATCH_CORRECT})
    # FEEDBACK is never set to RATIONALE: a delivery engine shows this to nobody.
    feedback = SubElement(
        root,
        _q("modalFeedback"),
        {"outcomeIdentifier": "FEEDBACK", "identifier": "RATIONALE", "showHide": "show"},
    )
    _rationale(feedback, record["rationale"])
    return root


def _document(element: Element) -> bytes:
    return bytes(tostring(element, encoding="utf-8", xml_declaration=True))


def item_xml(record: dict[str, Any], types: dict[str, str] | None = None) -> bytes:
    return _document(item_element(record, types))


def manifest_xml(
    records: list[dict[str, Any]],
    framework: str,
    titles: dict[str, str],
    types: dict[str, str] | None = None,
) -> bytes:
    """The ``imsmanifest.xml`` listing every item, each with its LOM metadata."""
    manifest = Element(
        f"{{{CP}}}manifest",
        {"identifier": f"MANIFEST-{framework}", f"{{{XSI}}}schemaLocation": CP_LOCATION},
    )
    metadata = SubElement(manifest, f"{{{CP}}}metadata")
    SubElement(metadata, f"{{{CP}}}schema").text = "QTIv2.1 Package"
    SubElement(metadata, f"{{{CP}}}schemaversion").text = "1.0.0"
    SubElement(manifest, f"{{{CP}}}organizations")
    resources = SubElement(manifest, f"{{{CP}}}resources")
    for record in records:
        ident = identifier(record["ref"])
        href = item_path(record["ref"])
        resource = SubElement(
            resources,
            f"{{{CP}}}resource",
            {"identifier": ident, "type": "imsqti_item_xmlv2p1", "href": href},
        )
        item_metadata = SubElement(resource, f"{{{CP}}}metadata")
        item_metadata.append(
            write_metadata(
                ref=record["ref"],
                framework_code=framework,
                competencies=[(code, titles.get(code, code)) for code in record["competencies"]],
                cognitive_level=record["cognitive_level"],
                references=record["references"],
                ref_in_metadata=ident != record["ref"],
            )
        )
        SubElement(resource, f"{{{CP}}}file", {"href": href})
        for medium in record.get("media", []):
            sha = medium["sha256"]
            SubElement(resource, f"{{{CP}}}file", {"href": media_href(sha, (types or {})[sha])})
        qti_stimuli.add_dependency(resource, record)
    qti_stimuli.add_resources(resources, records, types or {})
    return _document(manifest)


def item_path(ref: str) -> str:
    return f"items/{identifier(ref)}.xml"


def write_package(
    records: list[dict[str, Any]],
    framework: str,
    titles: dict[str, str],
    progress: Callable[[int], None] | None = None,
    types: dict[str, str] | None = None,
) -> bytes:
    """The content package (zip) of ``records``: the manifest, one file per item, each
    shared passage once, then each medium once (``types``: the content type of every medium
    the records show)."""
    records = qti_stimuli.prepared(records)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", manifest_xml(records, framework, titles, types))
        for path, data in qti_stimuli.stimulus_files(records, types or {}).items():
            archive.writestr(path, data)
        for number, record in enumerate(records, start=1):
            archive.writestr(item_path(record["ref"]), item_xml(record, types))
            if progress and (number % PROGRESS_STEP == 0 or number == len(records)):
                progress(number % PROGRESS_STEP or PROGRESS_STEP)
        for sha, content_type in sorted((types or {}).items()):
            # Images and audio are compressed already: stored, not deflated again.
            archive.writestr(media_href(sha, content_type), media_bytes(sha), zipfile.ZIP_STORED)
    return out.getvalue()
