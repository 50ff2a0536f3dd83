"""Domain events between rooms: one room publishes, others subscribe when the app is wired.

Handlers run synchronously inside the publisher's transaction, so what they write
(a certificate issued on a pass, say) commits or rolls back with the change itself.
"""

from __future__ import annotations

from collections.abc import Callable
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
