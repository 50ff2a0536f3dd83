"""Domain events between rooms: one room publishes, others subscribe when the app is wired.

Handlers run synchronously inside the publisher's transaction, so what they write
(a certificate issued on a pass, say) commits or rolls back with the change itself.
A handler may ``report`` what it did; a publisher that wants to say so (a preview run and
rolled back) reads the reports it ``collect``-ed, without knowing the other room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

Handler = Callable[..., None]


def subscribe(app: Flask, event: str, handler: Handler) -> None:
    app.extensions.setdefault("csm_events", {}).setdefault(event, []).append(handler)


def publish(session: Session, event: str, **payload: Any) -> None:
    """Call every handler of ``event`` with the session and the payload."""
    if not has_app_context():
        return
    for handler in current_app.extensions.get("csm_events", {}).get(event, []):
        handler(session, **payload)


@dataclass(frozen=True)
class Consequence:
    """What a handler did about an event: ``kind`` (a word the handler's room chooses,
    "issued" say), ``subject`` (what it was done to, a certificate code say), ``about``
    (the event's object, an attempt id say) and a short ``note``. A ``provisional``
    subject is drawn afresh each time (a new certificate's code): a preview that is
    rolled back cannot promise it."""

    about: int
    kind: str
    subject: str
    note: str = ""
    provisional: bool = False


_COLLECTORS = "csm_consequences"


@contextmanager
def collect(session: Session) -> Iterator[list[Consequence]]:
    """The consequences handlers report on ``session`` while the block runs."""
    found: list[Consequence] = []
    collectors: list[list[Consequence]] = session.info.setdefault(_COLLECTORS, [])
    collectors.append(found)
    try:
        yield found
    finally:
        collectors.remove(found)


def report(session: Session, consequence: Consequence) -> None:
    """Tell whoever is collecting on ``session``; nobody collecting, nothing happens."""
    for found in session.info.get(_COLLECTORS, ()):
        found.append(consequence)
