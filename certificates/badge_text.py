"""Text on the badge: cleaned of what XML cannot hold, measured with the DejaVu fonts in
``certificates/fonts`` and fitted to its box (a smaller size, more lines, then an
ellipsis), so the SVG and the PNG set every line alike."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONTS = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {False: FONTS / "DejaVuSans.ttf", True: FONTS / "DejaVuSans-Bold.ttf"}


_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(text: str) -> str:
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
def load_font(size: float, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILES[bold]), size)


def _width(text: str, size: float, bold: bool, spacing: float) -> float:
    return float(load_font(size, bold).getlength(text)) + spacing * max(len(text) - 1, 0)


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
class TextBlock:
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


def text_block(
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
) -> TextBlock:
    """A block of lines vertically centred (by cap height) on centre."""
    size, lines, cut = _fit(
        text, width=width, sizes=sizes, max_lines=max_lines, bold=bold, spacing_em=spacing_em
    )
    step = size * leading
    cap = size * 0.73
    first = centre - (len(lines) - 1) * step / 2 + cap / 2
    baselines = tuple(first + i * step for i in range(len(lines)))
    return TextBlock(tuple(lines), baselines, size, bold, fill, size * spacing_em, cut)
