"""Commands: ``flask responses export``, ``flask responses calibrate``,
``flask psychometrics drift`` and ``flask psychometrics pretest``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import click
from flask import Flask, current_app

from core.db import get_db
from core.errors import Problem
from exam.psychometrics import calibration, drift, drift_alerts, export, pretesting
from item_bank.blueprints import DEFAULT_BLUEPRINT


def _fail(problem: Problem) -> click.ClickException:
    return click.ClickException(f"{problem.title}: {problem.detail}")


def register_psychometrics_cli(app: Flask) -> None:
    @app.cli.group("responses")
    def responses_group() -> None:
        """Scored responses for outside analysis."""

    @responses_group.command("export")
    @click.option("--blueprint", default=DEFAULT_BLUEPRINT, show_default=True)
    @click.option("--sitting", type=int, default=None, help="Only this sitting's attempts.")
    @click.option("--layout", type=click.Choice(["long", "wide"]), default="long")
    @click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
    @click.option(
        "--identified", is_flag=True, help="Add names and emails (the audit row records it)."
    )
    @click.option("--export", "export_id", default=None, help="Repeat an export's pseudonyms.")
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
    def export_command(
        blueprint: str,
        sitting: int | None,
        layout: str,
        fmt: str,
        identified: bool,
        export_id: str | None,
        output: Path | None,
    ) -> None:
        """Export the scored responses (pseudonymised unless --identified), audited."""
        try:
            wanted = export.parse_request(blueprint, sitting, layout, fmt, identified, export_id)
            with get_db().session_scope() as session:
                done = export.export_responses(
                    session,
                    None,
                    wanted,
                    str(current_app.config["SECRET_KEY"]).encode(),
                    actor_label="command line",
                )
        except Problem as problem:
            raise _fail(problem) from problem
        if output is None:
            click.echo(done.body, nl=False)
        else:
            output.write_text(done.body, encoding="utf-8")
        click.echo(
            f"Export {done.export_id}: {done.attempts} attempts, {done.responses} responses.",
            err=True,
        )

    @responses_group.command("calibrate")
    @click.option("--blueprint", default=DEFAULT_BLUEPRINT, show_default=True)
    @click.option("--sitting", type=int, default=None, help="Only this sitting's attempts.")
    def calibrate_command(blueprint: str, sitting: int | None) -> None:
        """Rasch-calibrate the items from the scored responses (audited)."""
        try:
            with get_db().session_scope() as session:
                run = calibration.run_calibration(
                    session, None, blueprint, sitting, actor_label="command line"
                )
                flagged = sum(1 for item in run.items if item.flags)
                click.echo(
                    f"Calibration {run.id}: {len(run.items)} items from {run.persons} "
                    f"attempts in {run.seconds:.1f} s; persons mean {run.population_mean:.2f}, "
                    f"SD {run.population_sd:.2f}; {flagged} misfitting, "
                    f"{len(run.left_out)} left out."
                )
        except Problem as problem:
            raise _fail(problem) from problem

    @app.cli.group("psychometrics")
    def psychometrics_group() -> None:
        """Item analyses over time."""

    @psychometrics_group.command("drift")
    @click.argument("code")
    @click.option("--mode", type=click.Choice(["monthly", "recent"]), default="monthly")
    @click.option("--days", type=int, default=None, help="recent: the window in days.")
    @click.option("--threshold", type=float, default=None, help="Alerting change in p.")
    @click.option("--alpha", type=float, default=None, help="Significance level.")
    @click.option("--min-n", type=int, default=None, help="Responses needed on each side.")
    @click.option("--alert", is_flag=True, help="Email new alerts to the exam administrators.")
    def drift_command(
        code: str,
        mode: str,
        days: int | None,
        threshold: float | None,
        alpha: float | None,
        min_n: int | None,
        alert: bool,
    ) -> None:
        """Exposure and p-value drift of the blueprint's items; alerts first."""
        try:
            wanted = drift.parse_request(code, mode, days, threshold, alpha, min_n)
            with get_db().session_scope() as session:
                report = drift.drift_report(session, wanted)
                for line in drift_lines(report):
                    click.echo(line)
                if alert:
                    url = current_app.config["PUBLIC_BASE_URL"] + url_path(wanted)
                    notice = drift_alerts.notify(session, report, url)
                    click.echo(
                        f"{len(notice.alerts)} new alerts emailed to "
                        f"{len(notice.recipients)} exam administrators; "
                        f"{len(notice.already_sent)} sent before."
                    )
        except Problem as problem:
            raise _fail(problem) from problem

    @psychometrics_group.command("pretest")
    @click.argument("code")
    def pretest_command(code: str) -> None:
        """The blueprint's pretest items and how each has done (decide in the browser)."""
        try:
            with get_db().session_scope() as session:
                for line in pretest_lines(pretesting.pretest_rows(session, code)):
                    click.echo(line)
        except Problem as problem:
            raise _fail(problem) from problem


def pretest_lines(rows: list[pretesting.PretestRow]) -> list[str]:
    lines = [f"Pretest items: {len(rows)}."]
    for row in rows:
        stats = row.stats
        seen = f"n {stats.n}, p {stats.p_value:.2f}" if stats else "n 0"
        r = f", r {stats.point_biserial:.2f}" if stats and stats.point_biserial is not None else ""
        b = f", b {row.difficulty:.2f}" if row.difficulty is not None else ""
        lines.append(f"  {row.ref} ({row.code}) {row.status}: {seen}{r}{b}")
    return lines


def url_path(wanted: drift.DriftRequest) -> str:
    query = urlencode({"blueprint": wanted.blueprint, "mode": wanted.mode.value})
    return f"/staff/statistics/drift?{query}"


def drift_lines(report: drift.DriftReport) -> list[str]:
    periods = ", ".join(f"{p.label} ({p.forms} forms)" for p in report.periods)
    lines = [f"Periods: {periods or 'none'}.", f"Alerts: {len(report.alerts)}."]
    for item in report.alerts:
        assert item.signal is not None and item.drift is not None
        lines.append(
            f"  {item.label}: {drift.SIGNAL_TEXT[item.signal]} "
            f"(p {item.drift.baseline_p:.2f} -> {item.drift.latest_p:.2f}, "
            f"test p {item.drift.p_value:.2g})"
        )
    return lines
