"""The one place that wires core and every room together.

``flask run`` finds ``create_app``; ``gunicorn "wsgi:create_app()"`` serves it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

import accounts.models  # noqa: F401  (models must be on Base.metadata for migrations)
import accreditation.models  # noqa: F401
import certificates.models  # noqa: F401
import exam.models
import exam.psychometrics.models  # noqa: F401
import item_bank.models  # noqa: F401
from accounts import room as accounts_room
from accreditation import room as accreditation_room
from certificates import room as certificates_room
from core.app import build_base_app
from exam import room as exam_room
from item_bank import room as item_bank_room


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = build_base_app(config)
    accounts_room.register(app)
    item_bank_room.register(app)
    exam_room.register(app)
    certificates_room.register(app)
    accreditation_room.register(app)
    return app
