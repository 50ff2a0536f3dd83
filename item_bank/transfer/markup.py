"""QTI's XHTML and the bank's Markdown subset, each into the other.

The bank stores stems and options as a small Markdown subset (paragraphs, bold, italic,
code, lists, line breaks; see ``item_bank.rendering``). Export renders it with the same
rules into XHTML; import turns XHTML back into that subset, so an item that came from QTI
comes back from its own export unchanged. Feedback elements are never part of the text a
candidate reads: they are left out here and collected as rationale by the reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from defusedxml import ElementTree
from markdown_it import MarkdownIt

from item_bank.rendering import ENABLED_RULES, render_inline, render_markdown
from item_bank.transfer.package import local

# Shown to staff only, or not content at all: never part of a stem or an option (a
# rubricBlock is, when its view includes the candidate).
HIDDEN = frozenset(
    {
        "feedbackInline",
        "feedbackBlock",
        "modalFeedback",
        "rubricBlock",
        "templateInline",
        "templateBlock",
        "apipAccessibility",
        "printedVariable",
    }
)
# Content the bank cannot hold yet (media, shared stimuli): the item is refused, naming it.
MEDIA = frozenset({"img", "object", "audio", "video", "include", "math", "svg"})
BLOCKS = frozenset(
    {
        "p",
        "div",
        "blockquote",
        "pre",
        "address",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "dl",
        "dt",
        "dd",
        "hr",
        "li",
    }
)
MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*"}
BREAK = "\x00"  # stands for <br/> until whitespace is folded
ESCAPED = re.compile(r"([\\*_`])")
ESCAPABLE = re.compile(r"[\\*_`&]")
ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
LIST_START = re.compile(r"^([-+])( )")
# <sup>/<sub> the bank's text has no markup for, written as the characters Unicode has.
SUPERSCRIPT = dict(zip("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ", strict=True))
SUBSCRIPT = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
SCRIPTS = {"sup": (SUPERSCRIPT, "^"), "sub": (SUBSCRIPT, "_")}
# An ordered list that does not start at 1, as the export writes it: QTI 2.1's <ol> has no
# start attribute, so the number goes in its class.
START_CLASS = re.compile(r"(?:^|\s)start-(\d{1,6})(?:\s|$)")
NUMBER_START = re.compile(r"^(\d+)([.)])( )")


class UnsupportedContent(ValueError):
    """An element the bank cannot carry, named for the refusal."""

    def __init__(self, element: Any) -> None:
        name = local(element.tag)
        where = element.get("src") or element.get("data") or element.get("href") or ""
        super().__init__(f"<{name}{f' {where}' if where else ''}>")
        self.element_name = name


def _escape(text: str) -> str:
    if not ESCAPABLE.search(text):
        return text
    return ENTITY.sub("\\\\&", ESCAPED.sub(r"\\\1", text))


def _fold(text: str, markdown: bool = True) -> str:
    """Whitespace folded to single spaces; a <br/> becomes a line break (in Markdown, a
    backslash at the end of the line)."""
    if BREAK not in text:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.split(BREAK)]
    return ("\\\n" if markdown else "\n").join(line for line in lines if line)


def _paragraph(text: str) -> str:
    """A paragraph that would read as a list item is escaped so that it stays a paragraph."""
    if text[:1] not in "-+0123456789":
        return text
    text = LIST_START.sub(r"\\\1\2", text)
    return NUMBER_START.sub(r"\1\\\2\3", text)


class _Writer:
    """Walks XHTML into Markdown (``markdown``) or into plain text with paragraphs kept."""

    def __init__(
        self,
        skip: Any = None,
        markdown: bool = True,
        notes: list[str] | None = None,
        escape: bool = True,
    ) -> None:
        self.skip = skip
        self.markdown = markdown
        self.notes = notes if notes is not None else []
        self.escape = escape and markdown

    def _text(self, text: str | None) -> str:
        return _escape(text or "") if self.escape else (text or "")

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _script(self, element: Any, name: str) -> str:
        """A superscript or subscript as Unicode's characters, else as ``^(...)`` or
        ``_(...)``; either way noted, since the bank's text has no such markup."""
        table, mark = SCRIPTS[name]
        text = " ".join("".join(element.itertext()).split())
        if not text:
            return ""
        if all(char in table for char in text):
            written = "".join(table[char] for char in text)
        else:
            written = f"{mark}({text})"
        self._note(f"<{name}>{text[:40]}</{name}> written as {written[:44]}")
        return self._text(written)

    def _table(self, element: Any) -> str:
        """A table as lines of text, one per row, its cells separated by `` | ``: the
        bank's text has no tables, so the import report says so."""
        lines = [
            " ".join(" ".join(self.blocks(child)).split())
            for child in element
            if local(child.tag) == "caption"
        ]
        for row in (e for e in element.iter() if local(e.tag) == "tr"):
            cells = [c for c in row if local(c.tag) in ("td", "th")]
            lines.append(" | ".join(" ".join(" ".join(self.blocks(c)).split()) for c in cells))
        lines = [line for line in lines if line.strip(" |")]
        self._note("<table> written as lines of text, one per row, cells separated by |")
        if not self.markdown:
            return "\n".join(lines)
        return "\\\n".join(_paragraph(line) for line in lines)

    def _hidden(self, element: Any) -> bool:
        if element is self.skip:
            return True
        name = local(element.tag)
        if name == "rubricBlock":  # instructions for the candidate are part of the stem
            return self.markdown and "candidate" not in (element.get("view") or "").split()
        return self.markdown and name in HIDDEN

    def inline(self, element: Any) -> str:
        name = local(element.tag)
        if self._hidden(element):
            return ""
        if name in MEDIA:
            raise UnsupportedContent(element)
        if name == "br":
            return BREAK
        if name in SCRIPTS:
            return self._script(element, name)
        if name == "a" and element.get("href"):
            self._note(f"the link to {element.get('href')[:80]} left out, its text kept")
        if name == "code" and self.markdown:
            return "`" + " ".join("".join(element.itertext()).split()) + "`"
        inner = self._text(element.text) + "".join(
            self.inline(child) + self._text(child.tail) for child in element
        )
        mark = MARKS.get(name) if self.markdown else None
        if not mark or not inner.strip():
            return inner
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        return f"{lead}{mark}{inner.strip()}{mark}{trail}"

    def blocks(self, element: Any) -> list[str]:
        """The paragraphs and lists inside ``element``."""
        if len(element) == 0:  # text alone (most options and paragraphs): no walk
            text = _fold(self._text(element.text), self.markdown)
            return [_paragraph(text) if self.markdown else text] if text else []
        out: list[str] = []
        buffer: list[str] = []
        last: tuple[str, str] | None = None  # the list last written, and its marker

        def flush() -> None:
            text = _fold("".join(buffer), self.markdown)
            if text:
                out.append(_paragraph(text) if self.markdown else text)
            buffer.clear()

        buffer.append(self._text(element.text))
        for child in element:
            name = local(child.tag)
            if self._hidden(child):
                pass
            elif name in MEDIA:
                raise UnsupportedContent(child)
            elif name in ("ul", "ol"):
                flush()
                # Two lists in a row would read as one: the second takes the other marker.
                markers = (".", ")") if name == "ol" else ("-", "*")
                follows = last is not None and bool(out) and out[-1] is last[0]
                marker = markers[1] if follows and last and last[1] == markers[0] else markers[0]
                out.append(self._list(child, name == "ol", marker))
                last = (out[-1], marker)
            elif name == "table":
                flush()
                table = self._table(child)
                if table:
                    out.append(table)
            elif name in BLOCKS:
                flush()
                out.extend(self.blocks(child))
            else:
                buffer.append(self.inline(child))
            buffer.append(self._text(child.tail))
        flush()
        return out

    def _list(self, element: Any, ordered: bool, marker: str) -> str:
        lines = []
        entries = [child for child in element if local(child.tag) == "li"]
        for number, entry in enumerate(entries, start=_start(element) if ordered else 1):
            lead = f"{number}{marker}" if ordered else marker
            text = " ".join(_list_entry_text(block, len(lead) + 1) for block in self.blocks(entry))
            lines.append(f"{lead} {text}".rstrip())
        # A list whose items hold paragraphs (Markdown's loose list) stays loose.
        loose = any(local(child.tag) == "p" for entry in entries for child in entry)
        return ("\n\n" if loose else "\n").join(lines)


def _list_entry_text(block: str, indent: int) -> str:
    """A block inside a list item on its item's lines: a <br/> (Markdown's backslash at a
    line's end) carries on indented under the item's text; any other line break folds."""
    lines = [line.replace("\n", " ") for line in block.split("\\\n")]
    return ("\\\n" + " " * indent).join(lines)


def _start(element: Any) -> int:
    """Where an ordered list starts: XHTML's ``start``, else the export's ``start-N``
    class, else 1."""
    start = (element.get("start") or "").strip()
    if start.isdigit() and len(start) <= 6:
        return int(start)
    found = START_CLASS.search(element.get("class") or "")
    return int(found.group(1)) if found else 1


def _least_escaped(escaped: str, raw: str, render: Callable[[str], str]) -> str:
    """The text without backslash escapes when they change nothing the candidate sees
    ("customer_id", "ARR * 12"), so that the bank's own text comes back from its export
    as it was written."""
    return raw if raw != escaped and render(raw) == render(escaped) else escaped


def to_markdown(element: Any, skip: Any = None, notes: list[str] | None = None) -> str:
    """The Markdown of ``element``'s content, leaving out ``skip`` and feedback; what had
    to be written otherwise (a table, a superscript) is added to ``notes``."""
    blocks = _Writer(skip, notes=notes).blocks(element)
    if not any("\\" in block for block in blocks):
        return "\n\n".join(blocks)
    raw = _Writer(skip, escape=False).blocks(element)
    if len(raw) != len(blocks):
        return "\n\n".join(blocks)
    return "\n\n".join(
        _least_escaped(block, plain, render_markdown)
        for block, plain in zip(blocks, raw, strict=True)
    )


def inline_markdown(element: Any, notes: list[str] | None = None) -> str:
    """An option's text: its content on one line (paragraphs joined by spaces)."""
    text = " ".join(_Writer(notes=notes).blocks(element))
    if "\\" not in text:
        return text
    return _least_escaped(text, " ".join(_Writer(escape=False).blocks(element)), render_inline)


def plain_text(element: Any, notes: list[str] | None = None) -> str:
    """Feedback as rationale text: paragraphs and line breaks kept, markup dropped."""
    return "\n\n".join(_Writer(markdown=False, notes=notes).blocks(element))


# ---- Markdown to XHTML ----------------------------------------------------------


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("zero", {"html": False, "xhtmlOut": True}).enable(ENABLED_RULES)


def _elements(html: str, namespace: str) -> Any:
    return ElementTree.fromstring(f'<div xmlns="{namespace}">{html}</div>')


def markdown_blocks(text: str, namespace: str) -> list[Any]:
    """The stem's Markdown as QTI block elements (p, ul, ol). An ordered list that does
    not start at 1 says where it starts in its class (``start-3``): QTI 2.1's ``ol`` has no
    ``start`` attribute, and the import reads either."""
    root = _elements(_renderer().render(text), namespace)
    for element in root.iter(f"{{{namespace}}}ol"):
        start = element.attrib.pop("start", None)
        if start is not None and start != "1":
            element.set("class", f"start-{start}")
    return list(root)


def markdown_inline(text: str, namespace: str) -> Any:
    """An option's Markdown as inline content: a wrapper whose text and children to copy."""
    return _elements(_renderer().renderInline(text), namespace)
