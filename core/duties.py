"""Separation of duties, the one rule: nobody decides a matter they are a party to, nobody
sits an exam whose questions they can read, and nobody reads the questions while their
own exam is open.

Core knows no room, so the rule takes plain values: each room names the parties of its
matters (an attempt's candidate, an application's organisation members, a certificate's
holder) and says, through :func:`register_bank_lock`, when the bank is closed to someone.
A refusal changes nothing: it is raised before any write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from core.db import get_session
from core.errors import Problem

SLUG = "separation-of-duties"
P = ParamSpec("P")
R = TypeVar("R")

# Why the bank is closed to a user now (their exam is open, say), or None.
BankLock = Callable[[Session, int], str | None]


def party_refusal(
    actor_id: int, parties: Iterable[int], *, action: str, because: str
) -> Problem | None:
    """The 403 for an actor who is one of the matter's ``parties``, else None.

    ``action`` is what was refused ("admit this candidate"), ``because`` who the actor is
    in the matter ("you are the candidate").
    """
    if actor_id not in set(parties):
        return None
    return Problem(
        403,
        "Not on your own matter",
        f"You cannot {action}: {because}. Another member of staff must do it.",
        slug=SLUG,
    )


def require_not_party(actor_id: int, parties: Iterable[int], *, action: str, because: str) -> None:
    refusal = party_refusal(actor_id, parties, action=action, because=because)
    if refusal is not None:
        raise refusal


def require_not_reader(reader_roles: Iterable[str], role_labels: Iterable[str]) -> None:
    """A candidate who can read the bank (``reader_roles`` are those of theirs that do)
    may not sit an exam drawn from it."""
    held = sorted(set(reader_roles))
    if held:
        raise Problem(
            403,
            "You can read this exam's questions",
            "You hold a role that reads the item bank this exam is drawn from ("
            + ", ".join(sorted(set(role_labels)))
            + "), so you cannot register to sit it. Ask an administrator to remove the role "
            "first, or sit the exam with another certification body.",
            slug=SLUG,
            extra={"roles": held},
        )


def register_bank_lock(app: Flask, lock: BankLock) -> None:
    app.extensions.setdefault("csm_bank_locks", []).append(lock)


def bank_closed_reason(session: Session, user_id: int) -> str | None:
    for lock in current_app.extensions.get("csm_bank_locks", []):
        reason: str | None = lock(session, user_id)
        if reason:
            return reason
    return None


def require_bank_open(session: Session, user_id: int) -> None:
    reason = bank_closed_reason(session, user_id)
    if reason:
        raise Problem(
            403,
            "The item bank is closed to you for now",
            f"{reason} Questions, keys and rationales open again once it is over.",
            slug=SLUG,
        )


def reads_bank(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a page or API operation that shows the bank's questions, keys or statistics:
    it is refused while the signed-in user's own exam is open. Put it under
    ``roles_required``, so it runs once the caller is known."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_user.is_authenticated:
            require_bank_open(get_session(), int(current_user.id))
        return view(*args, **kwargs)

    return guarded
