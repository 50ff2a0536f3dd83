"""Safe Exam Browser configuration files (.seb) and their Config Key.

A .seb file is an XML property list, usually gzip-compressed and behind a four-byte
prefix: ``plnd`` for plain data, ``pswd``/``pwcc`` for password encryption, ``pkhs``/``phsk``
for a cryptographic identity. The Config Key is the SHA-256 (Base16, lower case) of the
settings as "SEB-JSON", following the Safe Exam Browser developer documentation
(developer/seb-config-key.html): ``originatorVersion`` left out, every dictionary's keys
sorted case-insensitively at every depth, empty dictionaries left out, no whitespace, no
character escaping, ``<data>`` as Base64 and ``<date>`` as ISO 8601.
"""

from __future__ import annotations

import base64
import hashlib
import plistlib
import re
import zlib
from datetime import UTC, datetime
from typing import Any

from core.errors import FieldError, Problem
from exam.services.problems import invalid

MAX_SEB_BYTES = 1024 * 1024
# A configuration is a few kilobytes of XML; more than this unpacked is not one.
MAX_UNPACKED_BYTES = 8 * 1024 * 1024
ENCRYPTED_PREFIXES = {b"pswd", b"pwcc", b"pkhs", b"phsk"}
PLAIN_PREFIX = b"plnd"
GZIP_MAGIC = b"\x1f\x8b"
CONFIG_KEY = re.compile(r"^[0-9a-f]{64}$")


def _refused(message: str) -> Problem:
    return Problem(
        422,
        "Not a usable SEB configuration",
        message,
        errors=[FieldError("seb_file", message)],
        slug="validation",
    )


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        unpacked = inflater.decompress(data, MAX_UNPACKED_BYTES)
    except zlib.error as error:
        raise _refused("The file is not a valid compressed SEB configuration.") from error
    if inflater.unconsumed_tail:
        raise _refused("The configuration unpacks to more than 8 MB; it is not a .seb file.")
    return unpacked


def plist_bytes(data: bytes) -> bytes:
    """The XML settings inside a .seb file, unwrapping gzip and the ``plnd`` prefix."""
    if len(data) > MAX_SEB_BYTES:
        raise _refused("A .seb configuration may be at most 1 MB.")
    for _layer in range(4):  # gzip, prefix, gzip, then the XML
        if data.startswith(GZIP_MAGIC):
            data = _gunzip(data)
        elif data[:4] in ENCRYPTED_PREFIXES:
            raise _refused(
                "This configuration is encrypted (with a password or an identity), so its "
                "Config Key cannot be read here. Paste the Config Key shown by the SEB "
                "Configuration Tool instead, or upload an unencrypted copy."
            )
        elif data.startswith(PLAIN_PREFIX):
            data = data[len(PLAIN_PREFIX) :]
        else:
            return data
    raise _refused("The file is not a SEB configuration.")


def read_settings(data: bytes) -> dict[str, Any]:
    """The settings dictionary of a .seb file (its property list), or a 422 saying why not."""
    try:
        settings = plistlib.loads(plist_bytes(data))
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as error:
        raise _refused("The file is not a SEB configuration (an XML property list).") from error
    except Exception as error:  # expat's own errors: a malformed document
        if type(error).__name__ != "ExpatError":
            raise
        raise _refused("The file is not a SEB configuration (malformed XML).") from error
    if not isinstance(settings, dict):
        raise _refused("A SEB configuration is a dictionary of settings.")
    return settings


def _sort_key(name: str) -> tuple[str, str]:
    # Case-insensitive; keys differing only by case keep the lower-case one first.
    return name.lower(), name.swapcase()


def seb_json(value: Any) -> str:
    """One value as SEB-JSON (see the module's docstring)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bytes):
        return f'"{base64.b64encode(value).decode()}"'
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return f'"{moment.astimezone(UTC).isoformat()}"'
    if isinstance(value, list):
        return "[" + ",".join(seb_json(item) for item in value) + "]"
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if not (isinstance(v, dict) and not _has_content(v))}
        pairs = (f'"{k}":{seb_json(kept[k])}' for k in sorted(kept, key=_sort_key))
        return "{" + ",".join(pairs) + "}"
    raise TypeError(f"not a property list value: {type(value).__name__}")


def _has_content(dictionary: dict[str, Any]) -> bool:
    """False for a dictionary that is empty once its own empty dictionaries are left out."""
    return any(not isinstance(v, dict) or _has_content(v) for v in dictionary.values())


def config_key(settings: dict[str, Any]) -> str:
    """The Config Key of a settings dictionary: SHA-256 of its SEB-JSON, lower-case hex."""
    without_origin = {k: v for k, v in settings.items() if k != "originatorVersion"}
    return hashlib.sha256(seb_json(without_origin).encode("utf-8")).hexdigest()


def config_key_of_file(data: bytes) -> str:
    return config_key(read_settings(data))


def normalised_key(text: str, field: str) -> str:
    """A pasted key (Config Key or Browser Exam Key): 64 hex digits, any case, trimmed."""
    key = text.strip().lower()
    if not CONFIG_KEY.match(key):
        raise invalid(
            field, "A key is 64 hexadecimal digits (0-9, a-f), as SEB's Configuration Tool shows."
        )
    return key
