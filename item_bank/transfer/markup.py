"""QTI's XHTML and the bank's Markdown subset, each into the other.

The bank stores stems and options as a small Markdown subset (paragraphs, bold, italic,
code, lists, line breaks; see ``item_bank.rendering``). Export renders it with the same
rules into XHTML; import turns XHTML back into that subset, so an item that came from QTI
comes back from its own export unchanged. Feedback elements are never part of the text a
candidate reads: they are left out here and collected as rationale by the reader.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from defusedxml import ElementTree
from markdown_it import MarkdownIt

from item_bank.rendering import ENABLED_RULES
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

    def __init__(self, skip: Any = None, markdown: bool = True) -> None:
        self.skip = skip
        self.markdown = markdown

    def _text(self, text: str | None) -> str:
        return _escape(text or "") if self.markdown else (text or "")

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
                out.append(self._list(child, ordered=name == "ol"))
            elif name in BLOCKS:
                flush()
                out.extend(self.blocks(child))
            else:
                buffer.append(self.inline(child))
            buffer.append(self._text(child.tail))
        flush()
        return out

    def _list(self, element: Any, ordered: bool) -> str:
        lines = []
        entries = [child for child in element if local(child.tag) == "li"]
        for number, entry in enumerate(entries, start=1):
            text = " ".join(block.replace("\n", " ") for block in self.blocks(entry))
            lines.append(f"{f'{number}.' if ordered else '-'} {text}")
        return "\n".join(lines)


def to_markdown(element: Any, skip: Any = None) -> str:
    """The Markdown of ``element``'s content, leaving out ``skip`` and feedback."""
    return "\n\n".join(_Writer(skip).blocks(element))


def inline_markdown(element: Any) -> str:
    """An option's text: its content on one line (paragraphs joined by spaces)."""
    return " ".join(_Writer().blocks(element))


def plain_text(element: Any) -> str:
    """Feedback as rationale text: paragraphs and line breaks kept, markup dropped."""
    return "\n\n".join(_Writer(markdown=False).blocks(element))


# ---- Markdown to XHTML ----------------------------------------------------------


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("zero", {"html": False, "xhtmlOut": True}).enable(ENABLED_RULES)


def _elements(html: str, namespace: str) -> Any:
    return ElementTree.fromstring(f'<div xmlns="{namespace}">{html}</div>')


def markdown_blocks(text: str, namespace: str) -> list[Any]:
    """The stem's Markdown as QTI block elements (p, ul, ol)."""
    return list(_elements(_renderer().render(text), namespace))


def markdown_inline(text: str, namespace: str) -> Any:
    """An option's Markdown as inline content: a wrapper whose text and children to copy."""
    return _elements(_renderer().renderInline(text), namespace)
