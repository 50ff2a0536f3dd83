"""``flask demo-data``: each room registers a loader; each loader skips what already exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask
from sqlalchemy.orm import Session

from core.db import get_db


@dataclass(frozen=True)
class DemoLoader:
    name: str
    order: int
    load: Callable[[Session], None]


def register_demo_loader(app: Flask, loader: DemoLoader) -> None:
    app.extensions.setdefault("csm_demo_loaders", []).append(loader)


def run_demo_loaders(app: Flask) -> None:
    loaders: list[DemoLoader] = sorted(
        app.extensions.get("csm_demo_loaders", []), key=lambda x: x.order
    )
    for loader in loaders:
        with get_db(app).session_scope() as session:
            loader.load(session)


def register_demo_cli(app: Flask) -> None:
    @app.cli.command("demo-data")
    def demo_data() -> None:
        """Load demo accounts and content into an empty database (existing data is kept)."""
        run_demo_loaders(app)
        click.echo("Demo data is in place.")
