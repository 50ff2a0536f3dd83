"""SVG images that only draw: anything that could run or reach outside the file is refused.

The file is parsed with DTDs and entities refused, and every element and attribute is
checked against a list of what drawing needs. Scripts, event handlers, ``foreignObject``,
animation (which can rewrite a link), style sheets and any reference that is not to an
element of the same file (``#id``) are refused with the reason, never silently removed:
the bytes stored are the bytes the author sent. The route that serves an SVG also sends
a sandboxing CSP, in case this list ever misses something.
"""

from __future__ import annotations

import re
from typing import Any

from item_bank.services import safe_xml

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "metadata", "symbol", "use", "path", "rect",
        "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "clipPath", "mask", "pattern", "marker",
        "filter", "feGaussianBlur", "feOffset", "feBlend", "feFlood", "feComposite",
        "feMerge", "feMergeNode", "feColorMatrix",
    }
)  # fmt: skip
LINK_ATTRIBUTES = frozenset({"href", f"{{{XLINK}}}href"})
# url(...) that points anywhere but an element of this file, or CSS that fetches or runs.
OUTSIDE_URL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
UNSAFE_CSS = re.compile(r"@import|expression\s*\(|javascript:|behavior\s*:", re.IGNORECASE)
NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")


class SvgRefused(ValueError):
    """Why the SVG is refused, in one line."""


def _local(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _check_attribute(element: str, name: str, value: str) -> None:
    namespace, local = _local(name)
    if local.lower().startswith("on"):
        raise SvgRefused(f"the SVG has an event handler ({local} on <{element}>).")
    if name in LINK_ATTRIBUTES:
        if not value.strip().startswith("#"):
            raise SvgRefused(f"the SVG links outside itself (<{element}> to {value[:80]}).")
        return
    if namespace not in ("", XML):
        raise SvgRefused(f"the SVG has an attribute outside SVG ({local} on <{element}>).")
    if OUTSIDE_URL.search(value) or UNSAFE_CSS.search(value):
        raise SvgRefused(f"the SVG refers outside itself ({local} on <{element}>).")


def _size(value: str | None) -> int | None:
    match = NUMBER.match(value or "")
    return round(float(match.group(1))) if match else None


def check_svg(data: bytes) -> tuple[int | None, int | None]:
    """The SVG's width and height when it gives them in pixels; :class:`SvgRefused` when it
    is not plain drawing."""
    try:
        root = safe_xml.parse(data)
    except safe_xml.XmlRefused as exc:
        raise SvgRefused(f"the SVG {exc}") from exc
    if _local(root.tag) != (SVG, "svg"):
        raise SvgRefused("not an SVG image (its root is not <svg> in the SVG namespace).")
    for element in root.iter():
        namespace, name = _local(element.tag)
        if namespace != SVG or name not in ELEMENTS:
            raise SvgRefused(f"the SVG holds <{name or 'unknown'}>, which is not plain drawing.")
        for attribute, value in element.attrib.items():
            _check_attribute(name, attribute, value)
    return _size(root.get("width")), _size(root.get("height"))
