"""The badge image of a certificate, as SVG and PNG (baking is in ``baking.py``).

One layout feeds both renderers: every line is measured with the DejaVu fonts in
``certificates/fonts`` (the PNG draws with them; the SVG names a system stack, whose fonts
are no wider), so the two pictures match. All text is plain text: the SVG is built with
ElementTree, which escapes it, after characters XML cannot hold have been dropped.

"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw

from certificates.badge_text import TextBlock, clean_text, load_font, text_block

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
    texts: tuple[TextBlock, ...]
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
    title, level, issuer = clean_text(title), clean_text(level), clean_text(issuer)
    if not (title and level and issuer):
        raise ValueError("a badge needs a title, a level and an issuer")
    name = clean_text(holder) if holder is not None else ""
    title = _without_level(title, level)

    full = f"{title}: {level}"
    label = f"{full} badge"
    by = issuer if issuer.casefold().startswith("the ") else f"the {issuer}"
    description = f"Certification badge of the {full}, issued by {by}"
    description += f", held by {name}." if name else "."

    texts = [
        text_block(
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
            text_block(first, centre=212, width=380, sizes=(112, 60), max_lines=1, fill=BRAND_DARK)
        )
        texts.append(
            text_block(
                rest, centre=313, width=380, sizes=(42, 24), max_lines=2, fill=INK, leading=1.12
            )
        )
    else:
        texts.append(
            text_block(
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
        text_block(
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
        one = text_block(name, centre=496, width=270, sizes=(30, 22), max_lines=1, fill=INK)
        if one.cut:
            one = text_block(
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
        font = load_font(block.size * scale, block.bold)
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
