"""The site's navigation, registered by each room and filtered by the user's roles."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_login import current_user


@dataclass(frozen=True)
class NavLink:
    label: str
    endpoint: str
    # Empty: everyone, signed in or not. ("*",): any signed-in user.
    roles: tuple[str, ...] = ()
    description: str = ""


def register_link(app: Flask, link: NavLink) -> None:
    app.extensions.setdefault("csm_navigation", []).append(link)


def visible_links() -> list[NavLink]:
    links: list[NavLink] = current_app.extensions.get("csm_navigation", [])
    # Public pages first, then role pages, then the user's own account.
    rank = {True: 0, False: 1}
    visible = [link for link in links if _visible(link)]
    return sorted(visible, key=lambda link: 2 if link.roles == ("*",) else rank[not link.roles])


def _visible(link: NavLink) -> bool:
    if not link.roles:
        return True
    if not current_user.is_authenticated:
        return False
    return link.roles == ("*",) or current_user.has_role(*link.roles)


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"navigation_links": visible_links})
