"""Safe Markdown for stems and options: a small subset, raw HTML always shown as text."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup

# Paragraphs, emphasis, inline code, lists and line breaks. No links, images,
# headings or HTML: a candidate must never be led off the exam page, and no
# author can inject markup.
ENABLED_RULES = ["emphasis", "backticks", "list", "newline", "escape", "entity"]


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False}).enable(
        ENABLED_RULES
    )


def render_markdown(text: str) -> Markup:
    """Markdown subset to HTML; anything that looks like HTML is escaped."""
    return Markup(_renderer().render(text))  # noqa: S704  (markdown-it escapes with html=False)


def render_inline(text: str) -> Markup:
    """The same subset without the wrapping paragraph (for option labels)."""
    return Markup(_renderer().renderInline(text))  # noqa: S704


def same_markdown(first: str, second: str, inline: bool = False) -> bool:
    """Whether two texts show the same to a candidate: equal, or written with other
    escapes ("customer_id" and "customer\\_id", "3. a" and "3\\. a" aside)."""
    if first == second:
        return True
    render = render_inline if inline else render_markdown
    return render(first) == render(second)


def render_summary(text: str, length: int = 110) -> Markup:
    """A stem shortened to one line for a list of items, its emphasis and code rendered as
    the candidate sees them: cut at a word before ``length`` characters, then rendered, so
    a cut never leaves half a tag (an unclosed ``**`` shows as written)."""
    flat = " ".join(text.split())
    if len(flat) > length:
        flat = flat[: length - 1].rsplit(" ", 1)[0].rstrip() + "…"
    return render_inline(flat)
