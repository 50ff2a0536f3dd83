"""Checking and cleaning what people type: emails, names, roles, passwords."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from accounts.passwords import password_problems
from core.auth import ROLES
from core.errors import FieldError, Problem

NAME_MAX = 100
EMAIL_MAX = 254


class AccountError(Problem):
    """A refused account change, naming the fields at fault (rendered as 4xx)."""

    def __init__(self, errors: list[FieldError], status: int = 422, title: str = "") -> None:
        super().__init__(
            status=status,
            title=title or "Some fields need attention",
            detail=" ".join(error.message for error in errors),
            errors=errors,
            slug="validation",
        )


def email_key(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip()).casefold()


def normalise_email(email: str, field: str = "email") -> str:
    email = email.strip()
    if len(email) > EMAIL_MAX:
        raise AccountError([FieldError(field, f"Use at most {EMAIL_MAX} characters.")])
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError(
            [FieldError(field, f"This is not a valid email address: {exc}")]
        ) from exc


def clean_name(value: str, field: str) -> str:
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise AccountError([FieldError(field, "This field is required.")])
    if len(value) > NAME_MAX:
        raise AccountError([FieldError(field, f"Use at most {NAME_MAX} characters.")])
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise AccountError([FieldError(field, "Remove the control characters.")])
    return value


def check_roles(roles: Iterable[str], field: str = "roles") -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise AccountError(
            [FieldError(field, f"Unknown role {', '.join(unknown)}; known: {', '.join(ROLES)}.")]
        )
    return roles


def check_password(password: str, personal: list[str], field: str = "password") -> None:
    problems = password_problems(password, personal)
    if problems:
        raise AccountError([FieldError(field, problem) for problem in problems])
