"""Certificate codes: ``CSM1-XXXX-XXXX-XXXX`` in Crockford base32, the last character a
check symbol (mod 37) that catches any single mistyped character."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
PREFIX = "CSM1"
DATA_LENGTH = 11
# Crockford's decoding: letters people confuse map to the digit they look like.
CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def _value(data: str) -> int:
    value = 0
    for char in data:
        value = value * 32 + ALPHABET.index(char)
    return value


def check_symbol(data: str) -> str:
    return CHECK_ALPHABET[_value(data) % 37]


def new_code() -> str:
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    body = data + check_symbol(data)
    return f"{PREFIX}-{body[0:4]}-{body[4:8]}-{body[8:12]}"


def file_stem(code: str) -> str:
    """The code as a file's name: the check symbols ``*`` and ``$`` are not allowed in names
    on every system (a browser would change them on its own), so they become ``_``."""
    return code.replace("*", "_").replace("$", "_")


def normalise(text: str) -> str | None:
    """The canonical code for what someone typed, or ``None`` if it cannot be one."""
    cleaned = "".join(text.upper().split()).replace("-", "")
    if not cleaned.startswith(PREFIX):
        return None
    body = cleaned[len(PREFIX) :].translate(CONFUSABLE)
    if len(body) != DATA_LENGTH + 1:
        return None
    data, check = body[:-1], body[-1]
    if any(char not in ALPHABET for char in data) or check_symbol(data) != check:
        return None
    return f"{PREFIX}-{body[0:4]}-{body[4:8]}-{body[8:12]}"
