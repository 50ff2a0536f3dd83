"""Files an importer meets in the wild that XML and zip libraries cannot always read: items,
manifests and SVGs in East Asian and other encodings, encodings nobody knows, packages
behind a password or packed with Deflate64. Each is read properly or refused in one line
naming the file, never a traceback."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from flask import Flask

from item_bank import transfer
from item_bank.services.media import MediaRefused, check_file
from tests.item_bank.media_fixtures import svg_image
from tests.item_bank.test_media import _upload
from tests.item_bank.test_qti import (
    DEFAULT,
    PACKAGE_DIR,
    _count,
    _exported,
    _import,
    _one_line_problem,
    _replace_member,
    zip_folder,
)

SCALE = "items/scale/qti.xml"
JAPANESE = "解約の理由は何ですか。"
TRADITIONAL = "客戶為何解約"
SIMPLIFIED = "客户为何解约"


def _recoded(text: str, label: str, codec: str) -> bytes:
    assert 'encoding="UTF-8"' in text
    return text.replace('encoding="UTF-8"', f'encoding="{label}"', 1).encode(codec)


def _scale_in(label: str, codec: str, words: str = JAPANESE) -> bytes:
    text = (PACKAGE_DIR / SCALE).read_text(encoding="utf-8")
    return _recoded(text.replace("escalation?</p>", f"escalation? {words}</p>", 1), label, codec)


@pytest.mark.parametrize(
    ("label", "codec", "words"),
    [
        ("Shift_JIS", "shift_jis", JAPANESE),
        ("EUC-JP", "euc_jp", JAPANESE),
        ("GB2312", "gb2312", SIMPLIFIED),
        ("Big5", "big5", TRADITIONAL),
        ("utf-16-le", "utf-16-le", JAPANESE),  # no byte-order mark
        ("UTF-16", "utf-16-be", JAPANESE),  # no byte-order mark, big-endian
    ],
)
def test_items_in_multi_byte_encodings_are_read_as_written(
    app: Flask, first_level: None, label: str, codec: str, words: str
) -> None:
    data = _replace_member(zip_folder(PACKAGE_DIR), SCALE, _scale_in(label, codec, words))
    summary = _import(app, transfer.parse_upload("p.zip", data), default_competency=DEFAULT)
    assert (summary.created, summary.errors) == (5, [])
    assert _exported(app)["i-scale"]["stem"].endswith(f"escalation? {words}")


def test_a_manifest_in_shift_jis_is_read() -> None:
    manifest = (PACKAGE_DIR / "imsmanifest.xml").read_text(encoding="utf-8")
    data = _replace_member(
        zip_folder(PACKAGE_DIR),
        "imsmanifest.xml",
        _recoded(
            manifest.replace("<organizations", "<!-- 目録 --><organizations", 1),
            "Shift_JIS",
            "shift_jis",
        ),
    )
    upload = transfer.parse_upload("p.zip", data)
    assert len(upload.records) == 5 and not any("_error" in r for r in upload.records)


def test_an_unknown_or_wrong_encoding_is_one_line_naming_the_file(
    app: Flask, first_level: None
) -> None:
    manifest = (PACKAGE_DIR / "imsmanifest.xml").read_text(encoding="utf-8")
    bogus = _replace_member(
        zip_folder(PACKAGE_DIR), "imsmanifest.xml", _recoded(manifest, "bogus", "utf-8")
    )
    assert _one_line_problem(bogus) == (
        "imsmanifest.xml: declares the encoding 'bogus', which is not one we know."
    )
    record = transfer.read_item(_scale_in("x-no-such-charset", "utf-8"), SCALE)
    assert record["_error"].startswith("declares the encoding 'x-no-such-charset'")
    # Bytes that are not the encoding they declare (UTF-8 text labelled Shift_JIS).
    wrong = _replace_member(
        zip_folder(PACKAGE_DIR),
        SCALE,
        _scale_in("Shift_JIS", "shift_jis").replace(b"</p>", b"\x82\xff</p>", 1),
    )
    with pytest.raises(transfer.ImportRefused) as refused:
        _import(app, transfer.parse_upload("p.zip", wrong), default_competency=DEFAULT)
    [error] = refused.value.summary.errors
    assert error.source == SCALE and "is not valid Shift_JIS text" in error.message
    assert "\n" not in error.message and _count(app) == 0


def test_a_dtd_hidden_by_an_encoding_is_still_refused() -> None:
    evil = '<?xml version="1.0" encoding="{}"?><!DOCTYPE x [<!ENTITY a "aaaa">]><assessmentItem>&a;</assessmentItem>'
    for label, codec in (
        ("Shift_JIS", "shift_jis"),
        ("utf-7", "utf-7"),
        ("utf-16-le", "utf-16-le"),
    ):
        record = transfer.read_item(evil.format(label).encode(codec), "evil.xml")
        assert record["_error"].startswith("declares a DTD or entities"), label


def _patched(member: str, data: bytes, *, flags: int = 0, method: int | None = None) -> bytes:
    """A zip of one member whose local and central headers are rewritten: ``flags`` or'd
    into the general-purpose bits (1 = encrypted), ``method`` as the compression method."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    raw = bytearray(out.getvalue())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.index(signature)
        (bits,) = struct.unpack_from("<H", raw, at + offset)
        struct.pack_into("<H", raw, at + offset, bits | flags)
        if method is not None:
            struct.pack_into("<H", raw, at + offset + 2, method)
    return bytes(raw)


def test_a_password_protected_or_deflate64_package_is_refused_naming_the_file() -> None:
    manifest = (PACKAGE_DIR / "imsmanifest.xml").read_bytes()
    locked = _one_line_problem(_patched("imsmanifest.xml", manifest, flags=0x1))
    assert locked.startswith("imsmanifest.xml: protected by a password")
    aes = _one_line_problem(_patched("imsmanifest.xml", manifest, method=99))
    assert aes.startswith("imsmanifest.xml: protected by a password")
    deflate64 = _one_line_problem(_patched("imsmanifest.xml", manifest, method=9))
    assert deflate64.startswith("imsmanifest.xml: packed with a compression method")
    assert "(Deflate64)" in deflate64 and "ordinary (Deflate) zip" in deflate64


def _svg(label: str, codec: str) -> bytes:
    text = svg_image().decode().replace("<title>Two bars</title>", f"<title>{JAPANESE}</title>")
    return f'<?xml version="1.0" encoding="{label}"?>{text}'.encode(codec)


def test_svgs_in_other_encodings_are_read_and_unknown_ones_refused(app: Flask, staff) -> None:
    for label, codec in (
        ("Shift_JIS", "shift_jis"),
        ("EUC-JP", "euc_jp"),
        ("utf-16-le", "utf-16-le"),
    ):
        assert check_file(_svg(label, codec), "bars.svg").content_type == "image/svg+xml"
    with pytest.raises(MediaRefused) as refused:
        check_file(_svg("bogus", "utf-8"), "bars.svg")
    assert "declares the encoding 'bogus'" in refused.value.detail
    client = app.test_client()
    headers = staff["writer"]["headers"]
    taken = _upload(client, headers, _svg("Shift_JIS", "shift_jis"), "bars.svg")
    assert taken.status_code == 201, taken.get_json()
    answer = _upload(client, headers, _svg("bogus", "utf-8"), "bars.svg")
    assert 400 <= answer.status_code < 500
    assert answer.get_json()["errors"][0]["field"] == "file"
    assert "declares the encoding 'bogus'" in answer.get_json()["detail"]


def _nested(opening: str, closing: str, depth: int) -> bytes:
    """The scale item with ``depth`` levels of ``opening`` around its question."""
    text = (PACKAGE_DIR / SCALE).read_text(encoding="utf-8")
    start = text.index("<p>How soon")
    end = text.index("</p>", start) + len("</p>")
    wrapped = opening * depth + text[start:end] + closing * depth
    return (text[:start] + wrapped + text[end:]).encode()


def test_elements_nested_too_deep_are_refused_and_deep_enough_ones_read() -> None:
    # assessmentItem > itemBody > (the nesting) > p: a few levels are the item's own.
    for opening, closing in (("<div>", "</div>"), ("<span>", "</span>")):
        read = transfer.read_item(_nested(opening, closing, 190), SCALE)
        assert "_error" not in read and read["stem"].startswith("How soon"), read.get("_error")
        refused = transfer.read_item(_nested(opening, closing, 5000), SCALE)
        assert refused["_error"] == "nests elements more than 200 deep; no item needs that."
