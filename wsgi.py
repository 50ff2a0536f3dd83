"""The one place that wires core and every room together.

``flask run`` finds ``create_app``; ``gunicorn "wsgi:create_app()"`` serves it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import configure_mappers

import accounts.models  # noqa: F401  (models must be on Base.metadata for migrations)
import accreditation.models  # noqa: F401
import certificates.models  # noqa: F401
import exam.models
import exam.psychometrics.models
import exam.standard_setting_models  # noqa: F401
import item_bank.models
import item_bank.programme_models  # noqa: F401
from accounts import room as accounts_room
from accreditation import room as accreditation_room
from certificates import room as certificates_room
from core.app import build_base_app
from core.navigation import register_menu
from exam import room as exam_room
from item_bank import room as item_bank_room


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = build_base_app(config)
    accounts_room.register(app)
    item_bank_room.register(app)
    exam_room.register(app)
    certificates_room.register(app)
    accreditation_room.register(app)
    _header_menus(app)
    # Settle every model's relationships now, once, rather than on the first request of
    # each server process (the first candidates of a spike would wait for it).
    configure_mappers()
    return app


def _header_menus(app: Flask) -> None:
    """The header's menus across rooms: each gathers a signed-in user's links of one kind
    of work (see ``core.navigation``)."""
    register_menu(
        app,
        "Public pages",
        ("item_bank.framework_page", "certificates.lookup", "accreditation.register"),
    )
    register_menu(
        app, "Items", ("item_bank.item_list", "item_bank.review_queue", "item_bank.coverage_page")
    )
    register_menu(app, "Exams", ("exam.staff_sittings", "exam.proctor_home"))
    register_menu(
        app, "Accreditation", ("accreditation.staff_queue", "accreditation.provider_home")
    )
    register_menu(app, "Account", ("accounts.account", "accounts.admin_users"))
