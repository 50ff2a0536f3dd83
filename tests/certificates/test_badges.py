"""The badge image (SVG and PNG) and Open Badges 3.0 baking: plain values in, bytes out."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from defusedxml import ElementTree as SafeET
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from certificates.badges import badge_png, badge_svg
from certificates.baking import KEYWORD, MAX_BAKED_BYTES, BakedBadgeError, bake, read_baked

SVG_NS = "{http://www.w3.org/2000/svg}"
TITLE = "CSM Competency Standard"
LEVEL = "First Level"
ISSUER = "Customer Success Association"
JWS = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1cm46dXVpZDoxIn0.c2lnbmF0dXJl"


def visible_text(svg: str) -> list[str]:
    root = SafeET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def credential_chunks(png: bytes) -> list[bytes]:
    return [
        data
        for kind, data in chunks(png)
        if kind == b"iTXt" and data.startswith(b"openbadgecredential\0")
    ]


@pytest.fixture(scope="module")
def plain_png() -> bytes:
    return badge_png(TITLE, LEVEL, ISSUER, size=64)


# ---------------------------------------------------------------------------- SVG


def test_svg_is_an_accessible_square_image_naming_what_it_certifies() -> None:
    root = SafeET.fromstring(badge_svg(TITLE, LEVEL, ISSUER))
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 600 600"
    title = root.find(f"{SVG_NS}title")
    desc = root.find(f"{SVG_NS}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "CSM Competency Standard: First Level" in (title.text or "")
    assert "CSM Competency Standard: First Level" in (desc.text or "")
    assert "Customer Success Association" in (desc.text or "")
    words = " ".join(visible_text(badge_svg(TITLE, LEVEL, ISSUER)))
    for part in ("CSM", "Competency", "Standard", "FIRST LEVEL", "CUSTOMER SUCCESS", "ASSOCIATION"):
        assert part in words


def test_svg_says_the_level_once_when_the_title_already_carries_it() -> None:
    svg = badge_svg("CSM Competency Standard: First Level", LEVEL, ISSUER)
    assert " ".join(visible_text(svg)).casefold().count("first level") == 1


def test_svg_fetches_and_runs_nothing() -> None:
    svg = badge_svg(TITLE, LEVEL, ISSUER, holder="Ada Lovelace")
    root = SafeET.fromstring(svg)
    tags = {el.tag.removeprefix(SVG_NS) for el in root.iter()}
    assert not tags & {"script", "image", "foreignObject", "use", "style", "a"}
    for el in root.iter():
        assert not any("href" in name or name.startswith("on") for name in el.attrib)
    assert (
        "url(" not in svg
        and "@import" not in svg
        and "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "sans-serif" in svg


@pytest.mark.parametrize(
    "holder", ["<script>alert(1)</script>", "O'Brien & Søn", '"><svg onload=alert(1)>']
)
def test_svg_holder_names_come_out_as_text(holder: str) -> None:
    svg = badge_svg(TITLE, LEVEL, ISSUER, holder=holder)
    root = SafeET.fromstring(svg)
    assert [el for el in root.iter() if el.tag.removeprefix(SVG_NS) == "script"] == []
    assert "<script" not in svg and "<svg onload" not in svg
    # The name may wrap onto two lines; every character of it is there, as text.
    assert holder.replace(" ", "") in "".join(visible_text(svg)).replace(" ", "")
    desc = root.find(f"{SVG_NS}desc")
    assert desc is not None and holder in (desc.text or "")


def test_svg_drops_characters_xml_cannot_hold() -> None:
    svg = badge_svg(TITLE, LEVEL, ISSUER, holder="Eve\x00\x0b\u202e Mallory\ufffe")
    assert "Eve Mallory" in " ".join(visible_text(svg))


def test_badge_needs_its_words() -> None:
    with pytest.raises(ValueError, match="title"):
        badge_svg(" ", LEVEL, ISSUER)


@settings(max_examples=60, deadline=None)
@given(holder=st.text(max_size=80))
def test_svg_parses_whatever_the_holder_is_called(holder: str) -> None:
    root = SafeET.fromstring(badge_svg(TITLE, LEVEL, ISSUER, holder=holder))
    assert root.get("role") == "img"


# ---------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("size", [160, 600])
def test_png_is_an_rgba_square_of_the_size_asked(size: int) -> None:
    image = Image.open(
        io.BytesIO(badge_png(TITLE, LEVEL, ISSUER, holder="Ada Lovelace", size=size))
    )
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # the corners are transparent
    assert alpha.getpixel((size // 2, size // 2)) == 255  # the shield is not


def test_png_refuses_silly_sizes() -> None:
    with pytest.raises(ValueError, match="size"):
        badge_png(TITLE, LEVEL, ISSUER, size=4)


# ---------------------------------------------------------------------------- baking


def test_bake_then_read_round_trips_the_jws(plain_png: bytes) -> None:
    baked = bake(plain_png, JWS)
    assert read_baked(baked) == JWS
    # Another reader (Pillow) sees the same chunk, and the image still decodes.
    image = Image.open(io.BytesIO(baked))
    assert isinstance(image, PngImagePlugin.PngImageFile)
    image.load()
    assert image.text[KEYWORD] == JWS


def test_the_chunk_is_laid_out_as_open_badges_says(plain_png: bytes) -> None:
    (data,) = credential_chunks(bake(plain_png, JWS))
    # keyword NUL, compression flag 0, method 0, empty language tag NUL,
    # empty translated keyword NUL, then the text uncompressed
    assert data == b"openbadgecredential\0" + b"\0\0" + b"\0" + b"\0" + JWS.encode()


def test_baking_twice_leaves_exactly_one_chunk(plain_png: bytes) -> None:
    twice = bake(bake(plain_png, "a.b.c"), JWS)
    assert len(credential_chunks(twice)) == 1
    assert read_baked(twice) == JWS


def test_bake_refuses_what_is_not_a_png_or_not_a_credential(plain_png: bytes) -> None:
    with pytest.raises(BakedBadgeError):
        bake(b"GIF89a....", JWS)
    with pytest.raises(ValueError, match="no credential"):
        bake(plain_png, "")


def test_read_refuses_a_file_that_is_not_a_png() -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
    with pytest.raises(BakedBadgeError, match="not a PNG"):
        read_baked(jpeg)
    with pytest.raises(BakedBadgeError, match="not a PNG"):
        read_baked(b"")


def test_read_refuses_a_png_without_a_credential(plain_png: bytes) -> None:
    with pytest.raises(BakedBadgeError, match="no Open Badges credential"):
        read_baked(plain_png)


def test_read_refuses_a_png_whose_credential_was_tampered_with(plain_png: bytes) -> None:
    baked = bytearray(bake(plain_png, JWS))
    at = baked.index(JWS.encode()) + 5
    baked[at] ^= 0x01
    with pytest.raises(BakedBadgeError, match="corrupted: its iTXt chunk fails its CRC check"):
        read_baked(bytes(baked))


@pytest.mark.parametrize("cut", [1, 12, 40])
def test_read_refuses_a_truncated_png(plain_png: bytes, cut: int) -> None:
    baked = bake(plain_png, JWS)
    with pytest.raises(BakedBadgeError, match="truncated"):
        read_baked(baked[:-cut])


def test_read_refuses_two_credentials(plain_png: bytes) -> None:
    baked = bake(plain_png, JWS)
    (data,) = credential_chunks(baked)
    extra = struct.pack(">I", len(data)) + b"iTXt" + data
    extra += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    at = 8 + 25  # straight after IHDR (13 bytes of data)
    doubled = baked[:at] + extra + baked[at:]
    with pytest.raises(BakedBadgeError, match="2 openbadgecredential chunks"):
        read_baked(doubled)


def test_read_refuses_a_compressed_credential(plain_png: bytes) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt(KEYWORD, JWS, zip=True)
    out = io.BytesIO()
    Image.open(io.BytesIO(plain_png)).save(out, format="PNG", pnginfo=info)
    with pytest.raises(BakedBadgeError, match="compressed"):
        read_baked(out.getvalue())


def test_read_refuses_an_oversized_upload() -> None:
    with pytest.raises(BakedBadgeError, match="larger than 5 MB"):
        read_baked(b"\x89PNG\r\n\x1a\n" + bytes(MAX_BAKED_BYTES))


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1))
def test_any_text_round_trips(plain_png: bytes, text: str) -> None:
    assert read_baked(bake(plain_png, text)) == text
