"""Opaque option ids: derived per attempt from the secret key, so the browser never sees a
key or an item id and a save is checked without reading the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from core.errors import FieldError, Problem
from exam.services.assembly import LETTERS


@lru_cache(maxsize=8)
def _option_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"option-id:" + secret_key.encode()).digest()


def option_id(secret_key: str, attempt_id: int, position: int, letter: str) -> str:
    """The id the browser sees for one option: opaque, and different in every attempt."""
    # hmac.digest is the one-shot C path: a form's 240 ids are computed on every start.
    mac = hmac.digest(
        _option_key(secret_key), f"{attempt_id}:{position}:{letter}".encode(), "sha256"
    )
    return base64.b32encode(mac[:10]).decode().lower()


def letters_for(secret_key: str, attempt_id: int, position: int, ids: list[str]) -> list[str]:
    """The authored letters behind the browser's ids; an unknown id is a 422."""
    known = _ids_of(secret_key, attempt_id, position)
    unknown = [value for value in ids if value not in known]
    if unknown:
        raise Problem(
            422,
            "Unknown option",
            "An option id does not belong to this question.",
            errors=[FieldError("selected", "Unknown option id.")],
        )
    return sorted({known[value] for value in ids})


@lru_cache(maxsize=16384)
def _ids_of(secret_key: str, attempt_id: int, position: int) -> dict[str, str]:
    """Every option id of one question (remembered: each question is saved many times)."""
    return {option_id(secret_key, attempt_id, position, letter): letter for letter in LETTERS}
