"""QTI 2.1 choice items in: one ``assessmentItem`` file, or a content package (zip) of them."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from defusedxml import DefusedXmlException, ElementTree

from core.errors import Problem
from item_bank.schemas import LETTERS, TRUE_FALSE_OPTIONS

QTI_NS = re.compile(r"^\{[^}]*\}")


def _local(tag: str) -> str:
    return QTI_NS.sub("", tag)


def _text(element: Any) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _text_without(element: Any, skip: Any) -> str:
    """The text of ``element`` leaving out the ``skip`` subtree (the interaction)."""
    if element is skip:
        return ""
    parts = [element.text or ""]
    for child in element:
        parts.append(_text_without(child, skip))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


def qti_item_to_record(xml: bytes, default_competency: str | None, level: str) -> dict[str, Any]:
    """One QTI 2.1 ``assessmentItem`` with a ``choiceInteraction`` as an exchange record."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        return {"_error": f"Not well-formed XML: {exc}"}
    except DefusedXmlException:
        return {"_error": "The XML declares entities or a DTD; remove them and import again."}
    if _local(root.tag) != "assessmentItem":
        return {"_error": "Not a QTI assessmentItem."}
    elements = list(root.iter())
    interaction = next((e for e in elements if _local(e.tag) == "choiceInteraction"), None)
    if interaction is None:
        return {"_error": "Only choiceInteraction items can be imported."}
    response_id = interaction.get("responseIdentifier", "RESPONSE")
    declaration = next(
        (
            e
            for e in elements
            if _local(e.tag) == "responseDeclaration" and e.get("identifier") == response_id
        ),
        None,
    )
    choices = [e for e in interaction if _local(e.tag) == "simpleChoice"]
    letters = {
        choice.get("identifier"): LETTERS[i] for i, choice in enumerate(choices[: len(LETTERS)])
    }
    correct = [
        _text(v)
        for v in (declaration.iter() if declaration is not None else [])
        if _local(v.tag) == "value"
    ]
    body = next((e for e in elements if _local(e.tag) == "itemBody"), None)
    stem_parts = [_text_without(child, interaction) for child in (body if body is not None else [])]
    stem_parts += [_text(e) for e in interaction if _local(e.tag) == "prompt"]
    options = [_text(choice) for choice in choices]
    multiple = declaration is not None and declaration.get("cardinality") == "multiple"
    feedback = [_text(e) for e in elements if _local(e.tag) in ("modalFeedback", "feedbackBlock")]
    label_codes = [code.strip() for code in (root.get("label") or "").split(",") if code.strip()]
    item_type = "multiple_response" if multiple else "single_choice"
    if not multiple and options == TRUE_FALSE_OPTIONS:
        item_type = "true_false"
    return {
        "ref": re.sub(r"[^A-Za-z0-9._-]", "-", root.get("identifier", ""))[:64],
        "type": item_type,
        "stem": "\n\n".join(part for part in stem_parts if part),
        "options": options,
        "keys": [letters.get(value, value) for value in correct],
        "choose": len(correct) if multiple else None,
        "rationale": " ".join(feedback) or "Imported from QTI without feedback; add a rationale.",
        "references": [f"QTI item {root.get('identifier', '')}: {root.get('title', '')}".strip()][
            :1
        ],
        "competencies": label_codes or ([default_competency] if default_competency else []),
        "cognitive_level": level,
        "enemies": [],
    }


def parse_qti(
    data: bytes, default_competency: str | None = None, level: str = "recall"
) -> list[Any]:
    """A single QTI 2.1 item file, or a content package (zip) of them."""
    if data[:2] == b"PK":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise Problem(400, "Unreadable package", "The zip file is damaged.") from exc
        names = sorted(
            n
            for n in archive.namelist()
            if n.lower().endswith(".xml") and not n.lower().endswith("imsmanifest.xml")
        )
        if sum(archive.getinfo(n).file_size for n in names) > 100 * 1024 * 1024:
            raise Problem(413, "Too large", "The package unpacks to more than 100 MB.")
        return [qti_item_to_record(archive.read(n), default_competency, level) for n in names]
    return [qti_item_to_record(data, default_competency, level)]
