"""Parsing XML someone uploaded: DTDs, entities and external references refused, and any
encoding Python knows read properly.

Without a DTD no entity can be declared, so nothing external is ever read. Expat reads
UTF-8, UTF-16 with a byte-order mark, Latin-1 and single-byte code pages itself; a document
in any other encoding Python knows (Shift_JIS, EUC-JP, GB2312, Big5, UTF-16 without a
byte-order mark, UTF-7...) is decoded here first and its text parsed, so it is read as
its author wrote it and checked for a DTD after decoding. An encoding nobody knows, bytes
that are not the encoding they declare, a DTD or malformed XML is an :class:`XmlRefused`
with one line that says which.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from xml.etree.ElementTree import ParseError, XMLParser

from defusedxml import DefusedXmlException, ElementTree

UTF16_BOMS = (b"\xfe\xff", b"\xff\xfe")
UTF32_BOMS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")
# A document without a byte-order mark starts with "<" (or "<?"), so its first bytes name
# its width and byte order (XML 1.0, appendix F).
UNMARKED = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,64})[\"']")
# What expat reads itself without help.
EXPAT_READS = frozenset({"utf-8", "ascii", "iso8859-1"})
DTD = "declares a DTD or entities"
MAX_DEPTH = 200  # real items, passages and drawings nest a few dozen deep at most


class XmlRefused(ValueError):
    """Why the document is refused, in one line; ``title`` says what kind of refusal."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title


def _decoded(data: bytes) -> bytes | str:
    """The bytes when expat reads their encoding itself, else the document's text."""
    if data.startswith(UTF32_BOMS):
        return _decode(data, "utf-32")
    if data.startswith(UTF16_BOMS):
        return data
    for start, encoding in UNMARKED:
        if data.startswith(start):
            return _decode(data, encoding)
    declared = DECLARED.match(data[:512])
    if declared is None:
        return data
    label = declared.group(1).decode("ascii")
    try:
        codec = codecs.lookup(label)
    except LookupError as exc:
        raise XmlRefused(
            "Unreadable XML", f"declares the encoding {label!r}, which is not one we know."
        ) from exc
    if codec.name in EXPAT_READS or codec.name.startswith(("utf-16", "utf-32")):
        return data  # UTF-16 declared on ASCII bytes: expat says what is wrong
    return _decode(data, codec.name, label)


def _decode(data: bytes, encoding: str, label: str = "") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise XmlRefused(
            "Unreadable XML", f"is not valid {label or encoding} text ({exc.reason})."
        ) from exc


def _declares_dtd(document: bytes | str) -> bool:
    if isinstance(document, str):
        return "<!DOCTYPE" in document or "<!ENTITY" in document
    return b"<!DOCTYPE" in document or b"<!ENTITY" in document


def parse(data: bytes) -> Any:
    """The document's root element, or :class:`XmlRefused`.

    An ASCII-compatible document without a ``<!DOCTYPE`` is read by the C parser (ten
    times quicker on a package of thousands); decoded text is read the same way once it is
    seen to hold no DTD; UTF-16 with a byte-order mark goes through defusedxml, which
    refuses DTDs and entities itself.
    """
    document = _decoded(data)
    quick = isinstance(document, str) or (
        b"\x00" not in data[:4096] and not data.startswith(UTF16_BOMS)
    )
    if quick and _declares_dtd(document):
        raise XmlRefused("Unsafe XML", f"{DTD}; remove them and try again.")
    try:
        if quick:
            parser = XMLParser()  # noqa: S314  (no DTD, so no entity: checked above)
            parser.feed(document)
            root = parser.close()
        else:
            root = ElementTree.fromstring(
                document, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
    except DefusedXmlException as exc:
        raise XmlRefused("Unsafe XML", f"{DTD}; remove them and try again.") from exc
    except ParseError as exc:
        raise XmlRefused("Malformed XML", f"is not well-formed XML ({exc}).") from exc
    except (ValueError, LookupError) as exc:  # an encoding expat cannot take, named inside
        raise XmlRefused("Unreadable XML", f"has an encoding that cannot be read ({exc}).") from exc
    if _deeper_than(root, MAX_DEPTH):
        raise XmlRefused(
            "Malformed XML", f"nests elements more than {MAX_DEPTH} deep; no item needs that."
        )
    return root


def _deeper_than(root: Any, limit: int) -> bool:
    """Whether elements nest deeper than ``limit`` (walked without recursion: the readers
    of a document recurse, and a hostile one must not exhaust their stack)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in element)
    return False
