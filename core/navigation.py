"""The site's navigation, registered by each room and filtered by the user's roles.

For a signed-in user, links registered under one menu (:func:`register_menu`) share one
header entry once the user sees two or more of them, so a person with many roles still
gets a header that fits one row; a menu with a single visible link is just that link.
Visitors see plain links.
"""

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


@dataclass(frozen=True)
class NavMenu:
    label: str
    links: tuple[NavLink, ...]

    @property
    def endpoints(self) -> frozenset[str]:
        return frozenset(link.endpoint for link in self.links)


def register_link(app: Flask, link: NavLink) -> None:
    app.extensions.setdefault("csm_navigation", []).append(link)


def register_menu(app: Flask, label: str, endpoints: tuple[str, ...]) -> None:
    """Gather the links to ``endpoints`` under one header menu called ``label``."""
    menus: dict[str, str] = app.extensions.setdefault("csm_navigation_menus", {})
    for endpoint in endpoints:
        menus[endpoint] = label


def visible_links() -> list[NavLink]:
    links: list[NavLink] = current_app.extensions.get("csm_navigation", [])
    # Public pages first, then role pages, then the user's own account.
    rank = {True: 0, False: 1}
    visible = [link for link in links if _visible(link)]
    return sorted(visible, key=lambda link: 2 if link.roles == ("*",) else rank[not link.roles])


def header_entries() -> list[NavLink | NavMenu]:
    """The header's entries in the order of :func:`visible_links`: each menu stands where
    its last link would (so the account's menu stays at the end)."""
    links = visible_links()
    if not current_user.is_authenticated:
        return list(links)
    menus: dict[str, str] = current_app.extensions.get("csm_navigation_menus", {})
    grouped: dict[str, list[NavLink]] = {}
    for link in links:
        if link.endpoint in menus:
            grouped.setdefault(menus[link.endpoint], []).append(link)
    entries: list[NavLink | NavMenu] = []
    for link in links:
        label = menus.get(link.endpoint)
        if label is None or len(grouped[label]) == 1:
            entries.append(link)
        elif link is grouped[label][-1]:
            entries.append(NavMenu(label, tuple(grouped[label])))
    return entries


def _visible(link: NavLink) -> bool:
    if not link.roles:
        return True
    if not current_user.is_authenticated:
        return False
    return link.roles == ("*",) or current_user.has_role(*link.roles)


def init_app(app: Flask) -> None:
    app.context_processor(
        lambda: {"navigation_links": visible_links, "header_entries": header_entries}
    )
