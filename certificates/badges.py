"""The badge image of a certificate, as SVG and PNG, and Open Badges 3.0 baking.

One layout feeds both renderers: every line is measured with the DejaVu fonts in
``certificates/fonts`` (the PNG draws with them; the SVG names a system stack, whose fonts
are no wider), so the two pictures match. All text is plain text: the SVG is built with
ElementTree, which escapes it, after characters XML cannot hold have been dropped.

Baking follows Open Badges 3.0, "Baked Badge / PNG": one ``iTXt`` chunk, keyword
``openbadgecredential``, no compression, empty language tag and translated keyword, the
compact JWS as its text. ``read_baked`` reads files from strangers: it caps their size,
walks the chunks itself and checks every CRC before believing a byte.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {False: FONTS / "DejaVuSans.ttf", True: FONTS / "DejaVuSans-Bold.ttf"}
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"DejaVu Sans", sans-serif'
)

# The stylesheet's colours (static/css/app.css); every text colour is at least 4.5:1
# against what it sits on (white on brand 6.9:1, brand-dark on white 9.9:1).
INK = "#1d2430"
BRAND = "#1f5f8b"
BRAND_DARK = "#174766"
BRAND_DEEP = "#0f3048"  # the ribbon's folds: brand-dark in shadow
LINE = "#d5dbe3"
PAPER = "#ffffff"

VIEW = 600  # the square viewBox, in user units
PNG_MIN, PNG_MAX = 16, 1200

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = "openbadgecredential"
MAX_BAKED_BYTES = 5 * 1024 * 1024
_MAX_CHUNK = 2**31 - 1


class BakedBadgeError(ValueError):
    """A file that is not a readable baked badge; the message says why."""


# ---------------------------------------------------------------------------- text


_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _clean(text: str) -> str:
    """Text as it may appear on the badge: NFC, one space between words, and nothing XML
    cannot hold (control characters, surrogates, non-characters) or that could reorder
    the line around it (bidi overrides)."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace()
        or (unicodedata.category(ch) not in {"Cc", "Cs", "Cn", "Co"} and ch not in _BIDI_CONTROLS)
    )
    return re.sub(r" +", " ", kept).strip()


@lru_cache(maxsize=64)
def _font(size: float, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILES[bold]), size)


def _width(text: str, size: float, bold: bool, spacing: float) -> float:
    return float(_font(size, bold).getlength(text)) + spacing * max(len(text) - 1, 0)


def _pieces(text: str) -> list[tuple[str, str]]:
    """Where a line may break: between words, and after a hyphen ("Wiśniewska-" "Kowalczyk").
    Each piece comes with what joins it to the one before on the same line."""
    pieces: list[tuple[str, str]] = []
    for word in text.split(" "):
        for i, piece in enumerate(re.findall(r"[^-]*-+|[^-]+", word)):
            pieces.append(("" if i else " ", piece))
    return pieces


def _wrap(text: str, size: float, bold: bool, spacing: float, width: float) -> list[str]:
    """Greedy wrap; a piece wider than the line is broken between characters."""
    lines: list[str] = []
    current = ""
    for glue, word in _pieces(text):
        candidate = f"{current}{glue}{word}" if current else word
        if _width(candidate, size, bold, spacing) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and _width(current + ch, size, bold, spacing) > width:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    return lines


def _ellipsize(line: str, size: float, bold: bool, spacing: float, width: float) -> str:
    while line and _width(line + "…", size, bold, spacing) > width:
        line = line[:-1].rstrip()
    return line + "…"


@dataclass(frozen=True)
class _Text:
    """Centred lines of text: baselines in viewBox units."""

    lines: tuple[str, ...]
    baselines: tuple[float, ...]
    size: float
    bold: bool
    fill: str
    spacing: float = 0.0
    cut: bool = False  # the text did not fit and was cut short with an ellipsis


def _fit(
    text: str,
    *,
    width: float,
    sizes: tuple[float, float],
    max_lines: int,
    bold: bool = True,
    spacing_em: float = 0.0,
) -> tuple[float, list[str], bool]:
    """The largest size (from sizes[0] down to sizes[1]) at which text wraps into
    max_lines lines of the width; at the smallest size the last line is cut short."""
    largest, smallest = sizes
    size = largest
    while True:
        spacing = size * spacing_em
        lines = _wrap(text, size, bold, spacing, width)
        if len(lines) <= max_lines:
            return size, lines, False
        if size - 1 < smallest:
            kept = lines[:max_lines]
            kept[-1] = _ellipsize(kept[-1], size, bold, spacing, width)
            return size, kept, True
        size -= 1


def _block(
    text: str,
    *,
    centre: float,
    width: float,
    sizes: tuple[float, float],
    max_lines: int,
    fill: str,
    bold: bool = True,
    spacing_em: float = 0.0,
    leading: float = 1.2,
) -> _Text:
    """A block of lines vertically centred (by cap height) on centre."""
    size, lines, cut = _fit(
        text, width=width, sizes=sizes, max_lines=max_lines, bold=bold, spacing_em=spacing_em
    )
    step = size * leading
    cap = size * 0.73
    first = centre - (len(lines) - 1) * step / 2 + cap / 2
    baselines = tuple(first + i * step for i in range(len(lines)))
    return _Text(tuple(lines), baselines, size, bold, fill, size * spacing_em, cut)


# ---------------------------------------------------------------------------- shapes

Point = tuple[float, float]
Segment = tuple[Literal["M", "L"], Point] | tuple[Literal["C"], Point, Point, Point]


def _shield(inset: float) -> list[Segment]:
    """A heraldic shield: flat top with rounded corners, straight sides, a curved point."""
    left, right, top = 70 + inset, VIEW - 70 - inset, 30 + inset
    shoulder, tip = 368.0, 586 - inset * 1.45
    r = max(26 - inset * 0.6, 6)
    k = r * 0.5523  # a quarter circle as a cubic
    mid = VIEW / 2
    return [
        ("M", (left + r, top)),
        ("L", (right - r, top)),
        ("C", (right - r + k, top), (right, top + r - k), (right, top + r)),
        ("L", (right, shoulder)),
        ("C", (right, shoulder + 100), (mid + 165, tip - 26), (mid, tip)),
        ("C", (mid - 165, tip - 26), (left, shoulder + 100), (left, shoulder)),
        ("L", (left, top + r)),
        ("C", (left, top + r - k), (left + r - k, top), (left + r, top)),
    ]


# The ribbon across the shield: a band, and behind it two tails with folds.
_BAND = (30.0, 382.0, 570.0, 448.0)  # left, top, right, bottom


def _ribbon_tail(side: int) -> tuple[list[Point], list[Point]]:
    """The tail (notched) and its fold for side -1 (left) or +1 (right)."""

    def x(offset: float) -> float:
        return VIEW / 2 + side * offset

    _, top, right, bottom = _BAND
    edge = right - VIEW / 2  # the band's half-width
    tail = [
        (x(edge - 34), top + 20),
        (x(edge + 22), top + 20),
        (x(edge + 4), (top + bottom) / 2 + 20),
        (x(edge + 22), bottom + 20),
        (x(edge - 34), bottom + 20),
    ]
    fold = [(x(edge), bottom), (x(edge - 34), bottom), (x(edge - 34), bottom + 20)]
    return tail, fold


def _check_mark() -> list[Point]:
    return [(281.0, 516.0), (296.0, 531.0), (322.0, 499.0)]


def _svg_d(segments: Sequence[Segment]) -> str:
    def pt(p: Point) -> str:
        return f"{p[0]:.1f} {p[1]:.1f}"

    parts = []
    for seg in segments:
        if seg[0] == "C":
            parts.append(f"C{pt(seg[1])} {pt(seg[2])} {pt(seg[3])}")
        else:
            parts.append(f"{seg[0]}{pt(seg[1])}")
    return " ".join(parts) + " Z"


def _flatten(segments: Sequence[Segment], steps: int = 32) -> list[Point]:
    points: list[Point] = []
    for seg in segments:
        if seg[0] == "C":
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[-1], seg[1], seg[2], seg[3]
            for i in range(1, steps + 1):
                t = i / steps
                u = 1 - t
                points.append(
                    (
                        u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                        u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
                    )
                )
        else:
            points.append(seg[1])
    return points


# ---------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    label: str  # the <title>
    description: str  # the <desc>
    texts: tuple[_Text, ...]
    mark: bool  # the check mark below the ribbon, when no holder is named


def _without_level(title: str, level: str) -> str:
    """The title without a trailing level, so that "CSM Competency Standard: First Level"
    with the level "First Level" says the level once, on the ribbon."""
    folded_title, folded_level = title.casefold(), level.casefold()
    if folded_title.endswith(folded_level) and len(title) > len(level):
        trimmed = title[: len(title) - len(level)].rstrip(" :,-\u2013\u2014")
        if trimmed:
            return trimmed
    return title


def _layout(title: str, level: str, issuer: str, holder: str | None) -> _Layout:
    title, level, issuer = _clean(title), _clean(level), _clean(issuer)
    if not (title and level and issuer):
        raise ValueError("a badge needs a title, a level and an issuer")
    name = _clean(holder) if holder is not None else ""
    title = _without_level(title, level)

    full = f"{title}: {level}"
    label = f"{full} badge"
    by = issuer if issuer.casefold().startswith("the ") else f"the {issuer}"
    description = f"Certification badge of the {full}, issued by {by}"
    description += f", held by {name}." if name else "."

    texts = [
        _block(
            issuer.upper(),
            centre=104,
            width=360,
            sizes=(30, 16),
            max_lines=2,
            fill=BRAND_DARK,
            spacing_em=0.06,
            leading=1.25,
        )
    ]
    first, _, rest = title.partition(" ")
    if rest and 2 <= len(first) <= 5 and first.isupper() and first.isalpha():
        # An acronym leads: it becomes the monogram, the rest of the title goes under it.
        texts.append(
            _block(first, centre=212, width=380, sizes=(112, 60), max_lines=1, fill=BRAND_DARK)
        )
        texts.append(
            _block(rest, centre=313, width=380, sizes=(42, 24), max_lines=2, fill=INK, leading=1.12)
        )
    else:
        texts.append(
            _block(
                title,
                centre=262,
                width=380,
                sizes=(56, 24),
                max_lines=3,
                fill=BRAND_DARK,
                leading=1.12,
            )
        )
    band_left, band_top, band_right, band_bottom = _BAND
    texts.append(
        _block(
            level.upper(),
            centre=(band_top + band_bottom) / 2,
            width=band_right - band_left - 110,
            sizes=(36, 18),
            max_lines=1,
            fill=PAPER,
            spacing_em=0.12,
        )
    )
    if name:
        # Below the ribbon the shield narrows: one line if the name allows, else two.
        one = _block(name, centre=496, width=270, sizes=(30, 22), max_lines=1, fill=INK)
        if one.cut:
            one = _block(
                name, centre=494, width=222, sizes=(26, 15), max_lines=2, fill=INK, leading=1.15
            )
        texts.append(one)
    return _Layout(label, description, tuple(texts), mark=not name)


# ---------------------------------------------------------------------------- SVG


def badge_svg(title: str, level: str, issuer: str, holder: str | None = None) -> str:
    """The badge as a self-contained SVG: no fonts, images or scripts fetched or run."""
    layout = _layout(title, level, issuer, holder)
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {VIEW} {VIEW}",
            "width": str(VIEW),
            "height": str(VIEW),
            "role": "img",
            "aria-labelledby": "badge-title badge-desc",
        },
    )
    ET.SubElement(svg, "title", {"id": "badge-title"}).text = layout.label
    ET.SubElement(svg, "desc", {"id": "badge-desc"}).text = layout.description

    art = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    ET.SubElement(art, "path", {"d": _svg_d(_shield(0)), "fill": BRAND_DARK})
    ET.SubElement(art, "path", {"d": _svg_d(_shield(16)), "fill": PAPER})
    ET.SubElement(
        art,
        "path",
        {"d": _svg_d(_shield(24)), "fill": "none", "stroke": BRAND, "stroke-width": "2"},
    )
    ET.SubElement(
        art,
        "path",
        {"d": "M240 150 H360", "stroke": LINE, "stroke-width": "3", "stroke-linecap": "round"},
    )
    for side in (-1, 1):
        tail, fold = _ribbon_tail(side)
        ET.SubElement(art, "polygon", {"points": _points(tail), "fill": BRAND_DARK})
        ET.SubElement(art, "polygon", {"points": _points(fold), "fill": BRAND_DEEP})
    left, top, right, bottom = _BAND
    ET.SubElement(
        art,
        "rect",
        {
            "x": f"{left:g}",
            "y": f"{top:g}",
            "width": f"{right - left:g}",
            "height": f"{bottom - top:g}",
            "fill": BRAND,
        },
    )
    if layout.mark:
        ET.SubElement(
            art,
            "circle",
            {
                "cx": "300",
                "cy": "515",
                "r": "30",
                "fill": "none",
                "stroke": BRAND,
                "stroke-width": "4",
            },
        )
        ET.SubElement(
            art,
            "polyline",
            {
                "points": _points(_check_mark()),
                "fill": "none",
                "stroke": BRAND,
                "stroke-width": "7",
                "stroke-linecap": "round",
                "stroke-linejoin": "round",
            },
        )

    words = ET.SubElement(svg, "g", {"font-family": FONT_STACK, "text-anchor": "middle"})
    for block in layout.texts:
        for line, baseline in zip(block.lines, block.baselines, strict=True):
            attrs = {
                # letter-spacing also follows the last letter: shift back by half of it.
                "x": f"{VIEW / 2 + block.spacing / 2:.1f}",
                "y": f"{baseline:.1f}",
                "font-size": f"{block.size:g}",
                "font-weight": "700" if block.bold else "400",
                "fill": block.fill,
            }
            if block.spacing:
                attrs["letter-spacing"] = f"{block.spacing:.1f}"
            ET.SubElement(words, "text", attrs).text = line
    return ET.tostring(svg, encoding="unicode")


def _points(points: Sequence[Point]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


# ---------------------------------------------------------------------------- PNG


def badge_png(
    title: str, level: str, issuer: str, holder: str | None = None, size: int = 600
) -> bytes:
    """The same badge drawn with Pillow and the bundled fonts: an RGBA PNG size px square."""
    if not PNG_MIN <= size <= PNG_MAX:
        raise ValueError(f"size must be between {PNG_MIN} and {PNG_MAX} pixels")
    layout = _layout(title, level, issuer, holder)
    over = 4 if size <= 600 else 2  # drawn large and scaled down: smooth edges
    canvas = size * over
    scale = canvas / VIEW

    def px(points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * scale, y * scale) for x, y in points]

    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon(px(_flatten(_shield(0))), fill=BRAND_DARK)
    draw.polygon(px(_flatten(_shield(16))), fill=PAPER)
    draw.polygon(px(_flatten(_shield(24))), outline=BRAND, width=max(round(2 * scale), 1))
    draw.line(px([(240, 150), (360, 150)]), fill=LINE, width=round(3 * scale))
    for side in (-1, 1):
        tail, fold = _ribbon_tail(side)
        draw.polygon(px(tail), fill=BRAND_DARK)
        draw.polygon(px(fold), fill=BRAND_DEEP)
    left, top, right, bottom = _BAND
    draw.rectangle([left * scale, top * scale, right * scale, bottom * scale], fill=BRAND)
    if layout.mark:
        r = 30 * scale
        cx, cy = 300 * scale, 515 * scale
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=BRAND, width=round(4 * scale))
        width = round(7 * scale)
        marks = px(_check_mark())
        draw.line(marks, fill=BRAND, width=width, joint="curve")
        for x, y in (marks[0], marks[-1]):  # round caps
            draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=BRAND)

    for block in layout.texts:
        font = _font(block.size * scale, block.bold)
        spacing = block.spacing * scale
        for line, baseline in zip(block.lines, block.baselines, strict=True):
            y = baseline * scale
            if not spacing:
                draw.text((canvas / 2, y), line, font=font, fill=block.fill, anchor="ms")
                continue
            x = canvas / 2 - (font.getlength(line) + spacing * (len(line) - 1)) / 2
            for ch in line:
                draw.text((x, y), ch, font=font, fill=block.fill, anchor="ls")
                x += font.getlength(ch) + spacing

    image = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------------------- baking


@dataclass(frozen=True)
class _Chunk:
    kind: bytes
    data: bytes
    raw: bytes  # length, type, data and CRC, as found


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _chunks(png: bytes) -> list[_Chunk]:
    """The chunks up to IEND, every length and CRC checked; anything after IEND ignored."""
    if not isinstance(png, bytes | bytearray | memoryview):
        raise TypeError("a PNG is bytes")
    png = bytes(png)
    if len(png) > MAX_BAKED_BYTES:
        raise BakedBadgeError(
            f"The file is larger than {MAX_BAKED_BYTES // (1024 * 1024)} MB; "
            "a badge image is far smaller."
        )
    if not png.startswith(PNG_SIGNATURE):
        raise BakedBadgeError("This file is not a PNG image (its first bytes are not a PNG's).")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(png):
            raise BakedBadgeError("The PNG is truncated: it ends before its final (IEND) chunk.")
        length, kind = struct.unpack_from(">I4s", png, pos)
        if length > _MAX_CHUNK or not kind.isascii() or not kind.isalpha():
            raise BakedBadgeError(f"The PNG is corrupted: a chunk header at byte {pos} is invalid.")
        end = pos + 12 + length
        if end > len(png):
            raise BakedBadgeError(
                f"The PNG is truncated: its {kind.decode('ascii')} chunk is cut short."
            )
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, end - 4)
        if zlib.crc32(kind + data) != crc:
            raise BakedBadgeError(
                f"The PNG is corrupted: its {kind.decode('ascii')} chunk fails its CRC check."
            )
        if not chunks and kind != b"IHDR":
            raise BakedBadgeError("The PNG is corrupted: it does not start with an IHDR chunk.")
        chunks.append(_Chunk(kind, data, png[pos:end]))
        pos = end
        if kind == b"IEND":
            return chunks


def _is_ours(chunk: _Chunk) -> bool:
    return chunk.kind == b"iTXt" and chunk.data.split(b"\0", 1)[0] == KEYWORD.encode("ascii")


def bake(png: bytes, compact_jws: str) -> bytes:
    """The PNG with the credential baked in: one openbadgecredential iTXt chunk (any earlier
    one replaced), placed straight after IHDR so readers that stop early still find it."""
    if not compact_jws:
        raise ValueError("there is no credential to bake")
    try:
        text = compact_jws.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the credential is not encodable as UTF-8") from exc
    chunks = _chunks(png)
    # keyword, NUL, compression flag 0, method 0, empty language tag, NUL,
    # empty translated keyword, NUL, text
    baked = _chunk(b"iTXt", KEYWORD.encode("ascii") + b"\0\0\0" + b"\0" + b"\0" + text)
    out = PNG_SIGNATURE + chunks[0].raw + baked
    out += b"".join(chunk.raw for chunk in chunks[1:] if not _is_ours(chunk))
    if len(out) > MAX_BAKED_BYTES:
        raise ValueError("the baked badge would be larger than read_baked accepts")
    return out


def read_baked(png: bytes) -> str:
    """The compact JWS baked into a badge PNG; BakedBadgeError says why there is none."""
    ours = [chunk for chunk in _chunks(png) if _is_ours(chunk)]
    if not ours:
        raise BakedBadgeError(
            "The PNG carries no Open Badges credential (no openbadgecredential iTXt chunk)."
        )
    if len(ours) > 1:
        raise BakedBadgeError(
            f"The PNG carries {len(ours)} openbadgecredential chunks; "
            "Open Badges allows exactly one."
        )
    rest = ours[0].data[len(KEYWORD) + 1 :]
    if len(rest) < 2:
        raise BakedBadgeError("The PNG is corrupted: its openbadgecredential chunk is malformed.")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    fields = rest.split(b"\0", 2)
    if len(fields) != 3 or method != 0:
        raise BakedBadgeError("The PNG is corrupted: its openbadgecredential chunk is malformed.")
    if compressed:
        raise BakedBadgeError(
            "The openbadgecredential chunk is compressed, which Open Badges forbids."
        )
    try:
        text = fields[2].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakedBadgeError("The openbadgecredential chunk's text is not UTF-8.") from exc
    if not text:
        raise BakedBadgeError("The openbadgecredential chunk is empty.")
    return text
