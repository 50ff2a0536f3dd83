"""Password policy and hashing (Argon2id)."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's 0-4 scale: 3 is "safely unguessable: moderate protection from an
# offline attack".
MIN_STRENGTH = 3


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, personal: list[str]) -> list[str]:
    """Why ``password`` may not be used (empty when it is fine)."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    if password.lower() in _common_passwords():
        return ["This is one of the most common passwords; choose another."]
    if _contains_personal_detail(password, personal):
        return ["Do not use your name or email address in your password."]
    result = zxcvbn(password[:100], user_inputs=[p for p in personal if p])
    if result["score"] < MIN_STRENGTH:
        warning = result["feedback"].get("warning") or "This password is easy to guess."
        suggestions = " ".join(result["feedback"].get("suggestions") or [])
        return [f"{warning} {suggestions}".strip()]
    return []


def _contains_personal_detail(password: str, personal: list[str]) -> bool:
    lowered = password.lower()
    words = {word for text in personal for word in re.split(r"[^\w]+", text.lower())}
    return any(len(word) >= 4 and word in lowered for word in words)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher_for(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"])


@cache
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification, so an unknown email answers as slowly as a known one."""
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    config = current_app.config
    return _dummy_hash_for(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"])


@cache
def _dummy_hash_for(time_cost: int, memory_kib: int) -> str:
    return _hasher_for(time_cost, memory_kib).hash("not-a-real-password-only-for-timing")
