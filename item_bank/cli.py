"""Commands: ``flask framework load``, ``flask blueprint load``, ``flask items import/export``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import get_db
from core.errors import Problem
from item_bank import blueprints, frameworks, transfer
from item_bank.models import Item

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def _fail(problem: Problem) -> NoReturn:
    click.echo(f"Error: {problem.title}. {problem.detail}", err=True)
    for error in problem.errors:
        click.echo(f"  {error.field}: {error.message}", err=True)
    summary = getattr(problem, "summary", None)
    for error in getattr(summary, "errors", [])[:500]:
        click.echo(
            f"  record {error.record} ({error.ref or 'no ref'}) {error.field}: {error.message}",
            err=True,
        )
    raise SystemExit(1) from problem


def load_demo_item_bank(session: Session) -> None:
    """The First Level framework, its blueprint, and the approved sample bank (if no items)."""
    summary = frameworks.load_framework_file(
        session, frameworks.FRAMEWORKS_DIR / "csa-first-level.json", "cli:demo-data"
    )
    click.echo(
        f"Framework {summary.framework}: {len(summary.added)} added, "
        f"{len(summary.changed)} changed."
    )
    version = blueprints.load_blueprint_file(
        session, blueprints.BLUEPRINTS_DIR / "first-level.json", "cli:demo-data"
    )
    click.echo(f"Blueprint first-level at version {version.number}.")
    if session.scalar(select(func.count(Item.id))):
        click.echo("Items already exist; the sample bank was not loaded.")
        return
    framework = frameworks.get_framework(session)
    assert framework is not None
    records = [
        record
        for path in sorted(SAMPLE_DIR.glob("*.json"))
        for record in transfer.parse_json_records(path.read_bytes())
    ]
    result = transfer.import_items(
        session, framework, records, status="approved", actor_id=None, actor_label="cli:demo-data"
    )
    click.echo(f"Sample item bank: {result.created} approved items.")


def register_item_bank_cli(app: Flask) -> None:
    @app.cli.group("framework")
    def framework_group() -> None:
        """Competency frameworks."""

    @framework_group.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def framework_load(path: Path) -> None:
        """Load or update a framework file (idempotent; codes are never reused)."""
        try:
            with get_db().session_scope() as session:
                summary = frameworks.load_framework_file(session, path)
        except Problem as problem:
            _fail(problem)
        click.echo(
            f"Framework {summary.framework}: {len(summary.added)} added, "
            f"{len(summary.changed)} changed, {len(summary.retired)} retired, "
            f"{summary.unchanged} unchanged."
        )

    @app.cli.group("blueprint")
    def blueprint_group() -> None:
        """Test blueprints."""

    @blueprint_group.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def blueprint_load(path: Path) -> None:
        """Load a blueprint file; changed rules become a new version."""
        try:
            with get_db().session_scope() as session:
                version = blueprints.load_blueprint_file(session, path)
                code, number = version.blueprint.code, version.number
        except Problem as problem:
            _fail(problem)
        click.echo(f"Blueprint {code} at version {number}.")

    @app.cli.group("items")
    def items_group() -> None:
        """Import and export items."""

    @items_group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
    @click.option(
        "--status",
        type=click.Choice(["draft", "in_review", "approved"]),
        default="draft",
        show_default=True,
    )
    @click.option(
        "--framework", "framework_code", default=frameworks.DEFAULT_FRAMEWORK, show_default=True
    )
    @click.option(
        "--competency", default=None, help="QTI only: competency code for items that carry none."
    )
    def items_import(
        path: Path, dry_run: bool, status: str, framework_code: str, competency: str | None
    ) -> None:
        """Import items from JSON, CSV or QTI 2.1 (.xml or .zip): all records or none."""
        try:
            records = transfer.parse_upload(path.name, path.read_bytes(), competency)
            with get_db().session_scope() as session:
                framework = frameworks.get_framework(session, framework_code)
                if framework is None:
                    raise Problem(404, "No such framework", f"Load {framework_code} first.")
                with click.progressbar(length=len(records), label="Importing", file=None) as bar:
                    summary = transfer.import_items(
                        session,
                        framework,
                        records,
                        status=status,
                        actor_id=None,
                        actor_label="cli:items-import",
                        dry_run=dry_run,
                        progress=bar.update,
                    )
        except Problem as problem:
            _fail(problem)
        verb = "Would create" if dry_run else "Created"
        click.echo(
            f"{verb} {summary.created} items; {summary.new_versions} new versions; "
            f"{summary.unchanged} unchanged; {summary.total} records read."
        )

    @items_group.command("export")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--status", default="", help="Only items whose newest version has this status.")
    @click.option(
        "--framework", "framework_code", default=frameworks.DEFAULT_FRAMEWORK, show_default=True
    )
    def items_export(path: Path, status: str, framework_code: str) -> None:
        """Export items to .json or .csv (the format follows the file name)."""
        with get_db().session_scope(write=False) as session:
            framework = frameworks.get_framework(session, framework_code)
            if framework is None:
                _fail(Problem(404, "No such framework", framework_code))
            records = transfer.export_records(session, framework, status)
        if path.suffix == ".csv":
            path.write_text(transfer.records_to_csv(records), encoding="utf-8")
        else:
            path.write_text(
                json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        click.echo(f"Exported {len(records)} items to {path}.")
