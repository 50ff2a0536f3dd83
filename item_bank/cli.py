"""Commands: ``flask framework load``, ``flask blueprint load``, ``flask programmes load``,
``flask items import/export``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import get_db
from core.errors import Problem
from item_bank import blueprints, frameworks, programmes, transfer
from item_bank.models import Item

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SCENARIO_DIR = SAMPLE_DIR / "scenarios"  # items written on a shared passage
# A sample second framework with three proficiency levels, two of its programmes (the
# second requiring the first) and a small bank: the ladder a demo candidate sees.
LADDER_DIR = SAMPLE_DIR / "ladder"
LADDER_FILES = (
    ("framework", "cscm-sample.json"),
    ("blueprint", "blueprint-contributor.json"),
    ("blueprint", "blueprint-senior.json"),
    ("programmes", "programme-contributor.json"),
    ("programmes", "programme-senior.json"),
)
LADDER_FRAMEWORK = "cscm-sample"
# An import of more items than this prints its per-item lines only on a dry run or to
# --report FILE, and says so.
REPORT_LINES = 200
# The exit status of an import that took its items but refused some (unsupported
# interactions): 0 all taken, 1 nothing imported, 3 imported without the refused ones.
REFUSED_EXIT = 3


def _fail(problem: Problem, report: Path | None = None) -> NoReturn:
    """The problem in full: every error, and for a refused import what it would have done
    with each item (its whole report, also written to ``report`` when given)."""
    lines = [f"Error: {problem.title}. {problem.detail}"]
    lines += [f"  {error.field}: {error.message}" for error in problem.errors]
    summary = problem.summary if isinstance(problem, transfer.ImportRefused) else None
    if summary is not None:
        lines += [f"  {error.where()} {error.field}: {error.message}" for error in summary.errors]
        lines += summary.report()
    for line in lines:
        click.echo(line, err=True)
    if report is not None:
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raise SystemExit(1) from problem


def _print_report(summary: transfer.ImportSummary, report: Path | None) -> None:
    """The import's report: every line on a dry run or a small import; for a large import
    the lines that are not "new"/"unchanged" items, saying how many are left out and
    where to find them. ``report`` gets every line."""
    verb = "Would create" if summary.dry_run else "Created"
    lines = [*summary.report(), f"{verb} {summary.counts()}"]
    if report is not None:
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if summary.dry_run or len(summary.items) <= REPORT_LINES:
        shown = lines
    else:
        shown = lines[len(summary.items) :]
        where = f"they are in {report}" if report else "use --report FILE for all"
        shown.insert(0, f"{len(summary.items):,} item lines not shown; {where}.")
    for line in shown:
        click.echo(line)


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on the terminal (none when the output is not one): yields the
    function that advances it by a number of items. No total: a bar that only counts."""
    console = Console(stderr=True)
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.advance(task, done)


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
    programme = programmes.load_programme_file(
        session, programmes.PROGRAMMES_DIR / "first-level.json", "cli:demo-data"
    )
    click.echo(f"Programme first-level at version {programme.number}.")
    if session.scalar(select(func.count(Item.id))):
        click.echo("Items already exist; the sample bank was not loaded.")
        return
    framework = frameworks.get_framework(session)
    assert framework is not None
    records = [
        record
        for path in [*sorted(SAMPLE_DIR.glob("*.json")), *sorted(SCENARIO_DIR.glob("*.json"))]
        for record in transfer.parse_json_records(path.read_bytes())
    ]
    result = transfer.import_items(
        session, framework, records, status="approved", actor_id=None, actor_label="cli:demo-data"
    )
    click.echo(f"Sample item bank: {result.created} approved items, one scenario among them.")


def load_demo_ladder(session: Session) -> None:
    """The sample ladder beside the First Level, and its bank if it has no items yet."""
    loaders = {
        "framework": frameworks.load_framework_file,
        "blueprint": blueprints.load_blueprint_file,
        "programmes": programmes.load_programme_file,
    }
    for kind, name in LADDER_FILES:
        loaders[kind](session, LADDER_DIR / name, "cli:demo-data")
    framework = frameworks.require_framework(session, LADDER_FRAMEWORK)
    if session.scalar(select(func.count(Item.id)).where(Item.framework_id == framework.id)):
        return
    records = transfer.parse_json_records((LADDER_DIR / "items.json").read_bytes())
    result = transfer.import_items(
        session, framework, records, status="approved", actor_id=None, actor_label="cli:demo-data"
    )
    click.echo(
        f"Sample ladder: {framework.title}, two programmes, {result.created} approved items."
    )


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

    @app.cli.group("programmes")
    def programme_group() -> None:
        """Programmes: the credentials on offer."""

    @programme_group.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def programme_load(path: Path) -> None:
        """Load a programme file (its framework, blueprints and prerequisites first);
        changed rules become a new version."""
        try:
            with get_db().session_scope() as session:
                version = programmes.load_programme_file(session, path)
                code, number = version.programme.code, version.number
        except Problem as problem:
            _fail(problem)
        click.echo(f"Programme {code} at version {number}.")

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
    @click.option(
        "--report",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        default=None,
        help="Write the whole report (every item, error, refused and skipped line) to this file.",
    )
    def items_import(
        path: Path,
        dry_run: bool,
        status: str,
        framework_code: str,
        competency: str | None,
        report: Path | None,
    ) -> None:
        """Import items from JSON, CSV or QTI 2.1/2.2 (.xml or a .zip content package): all
        records or none. A package's tests and other resources are reported as skipped;
        an item whose interaction the bank has no type for is reported refused and the
        package's other items are imported (exit status 3; 0 when every item is taken, 1
        when nothing was imported)."""
        try:
            with progress_bar("Reading", None) as advance:
                upload = transfer.parse_upload(path.name, path.read_bytes(), advance)
            with get_db().session_scope() as session:
                framework = frameworks.get_framework(session, framework_code)
                if framework is None:
                    raise Problem(404, "No such framework", f"Load {framework_code} first.")
                with progress_bar("Importing", len(upload.records)) as advance:
                    summary = transfer.import_items(
                        session,
                        framework,
                        upload.records,
                        status=status,
                        actor_id=None,
                        actor_label="cli:items-import",
                        dry_run=dry_run,
                        progress=advance,
                        default_competency=competency,
                        skipped=upload.skipped,
                    )
        except Problem as problem:
            _fail(problem, report)
        _print_report(summary, report)
        if summary.refused:
            raise SystemExit(REFUSED_EXIT)

    @items_group.command("export")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--status", default="", help="Only items whose newest version has this status.")
    @click.option(
        "--framework", "framework_code", default=frameworks.DEFAULT_FRAMEWORK, show_default=True
    )
    def items_export(path: Path, status: str, framework_code: str) -> None:
        """Export items: .json, .csv, or .zip for a QTI 2.1 content package (the format
        follows the file name; any other name is refused)."""
        try:
            fmt = transfer.format_for(path.name)
            with get_db().session_scope(write=False) as session:
                framework = frameworks.require_framework(session, framework_code)
                total = session.scalar(
                    select(func.count(Item.id)).where(Item.framework_id == framework.id)
                )
                with progress_bar("Exporting", total) as advance:
                    body, count = transfer.export_bytes(session, framework, fmt, status, advance)
        except Problem as problem:
            _fail(problem)
        path.write_bytes(body)
        click.echo(f"Exported {count} items to {path}.")
