"""Opaque option ids: derived per attempt from the secret key, so the browser never sees a
key or an item id and a save is checked without reading the database.

One keyed hash per question gives the ids of all its options (each a slice of it), so a
start computes sixty hashes, not one per option. Ids spelt as pages opened before showed
them (one hash per option, base32) are still accepted, so an exam open across an upgrade
keeps saving.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from core.errors import FieldError, Problem
from exam.services.assembly import LETTERS

_ID_BYTES = 8  # 64 bits an id: sha512 gives one for each of up to 8 letters
assert len(LETTERS) * _ID_BYTES <= hashlib.sha512().digest_size


@lru_cache(maxsize=8)
def _option_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"option-id:" + secret_key.encode()).digest()


def key_check(secret_key: str) -> str:
    """Names the key option ids are made with, without giving it away: ids stored ahead of
    an attempt are used only while the key that made them is still the app's."""
    return hashlib.sha256(b"check:" + _option_key(secret_key)).hexdigest()[:16]


def option_ids(secret_key: str, attempt_id: int, position: int) -> dict[str, str]:
    """The id the browser sees for each option letter of one question: opaque, and
    different in every attempt."""
    mac = hmac.digest(_option_key(secret_key), f"{attempt_id}:{position}".encode(), "sha512")
    return {
        letter: mac[index * _ID_BYTES : (index + 1) * _ID_BYTES].hex()
        for index, letter in enumerate(LETTERS)
    }


def option_id(secret_key: str, attempt_id: int, position: int, letter: str) -> str:
    return option_ids(secret_key, attempt_id, position)[letter]


def _earlier_option_id(secret_key: str, attempt_id: int, position: int, letter: str) -> str:
    mac = hmac.digest(
        _option_key(secret_key), f"{attempt_id}:{position}:{letter}".encode(), "sha256"
    )
    return base64.b32encode(mac[:10]).decode().lower()


def letters_for(secret_key: str, attempt_id: int, position: int, ids: list[str]) -> list[str]:
    """The authored letters behind the browser's ids; an unknown id is a 422."""
    known = _ids_of(secret_key, attempt_id, position)
    if any(value not in known for value in ids):  # a page opened before the upgrade?
        known = {**known, **_earlier_ids_of(secret_key, attempt_id, position)}
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
    return {shown: letter for letter, shown in option_ids(secret_key, attempt_id, position).items()}


@lru_cache(maxsize=1024)
def _earlier_ids_of(secret_key: str, attempt_id: int, position: int) -> dict[str, str]:
    return {
        _earlier_option_id(secret_key, attempt_id, position, letter): letter for letter in LETTERS
    }
