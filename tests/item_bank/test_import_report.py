"""The import's report on the command line: whole on a dry run, never cut without a word,
written in full with --report, the items' lines on a refused dry run too, and the scenarios
an import makes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from item_bank import cli
from tests.item_bank.fixtures import record, write_json
from tests.item_bank.test_qti import QTI_DIR, _count

STIMULUS_DIR = QTI_DIR / "stimulus-package"


def test_a_large_import_says_which_lines_it_leaves_out_and_report_writes_them_all(
    app: Flask, first_level: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "REPORT_LINES", 2)
    path = write_json(tmp_path / "items.json", [record(ref=f"R-{n}") for n in range(5)])
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["items", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert all(f"R-{n}: new" in dry.output for n in range(5))  # a dry run shows every line
    assert "not shown" not in dry.output
    done = runner.invoke(args=["items", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "5 item lines not shown; use --report FILE for all." in done.output
    assert "R-0: new" not in done.output and "Created 5 items" in done.output
    report = tmp_path / "report.txt"
    again = runner.invoke(args=["items", "import", str(path), "--report", str(report)])
    assert f"5 item lines not shown; they are in {report}." in again.output
    written = report.read_text().splitlines()
    assert written[:5] == [f"R-{n}: unchanged" for n in range(5)]
    assert written[-1].startswith("Created 0 items; 0 new versions; 5 unchanged")


def test_a_refused_import_prints_every_error_and_what_it_would_do_with_each_item(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    # More errors than the 500 the command used to print, and good items beside them.
    bad = [record(ref=f"B-{n}", keys=["Q"]) for n in range(600)]
    path = write_json(tmp_path / "items.json", [record(ref="GOOD-1"), *bad])
    report = tmp_path / "report.txt"
    runner = app.test_cli_runner()
    refused = runner.invoke(
        args=["items", "import", str(path), "--dry-run", "--report", str(report)]
    )
    assert refused.exit_code == 1
    assert "record 601 (B-599) keys" in refused.output
    assert sum("(B-" in line for line in refused.output.splitlines()) >= 600
    assert "GOOD-1: new" in refused.output
    assert "GOOD-1: new" in report.read_text() and "record 601 (B-599)" in report.read_text()
    assert _count(app) == 0


def test_the_report_lists_the_scenarios_an_import_makes(
    app: Flask, first_level: None, tmp_path: Path
) -> None:
    path = tmp_path / "stimuli.zip"
    path.write_bytes(_stimulus_package())
    runner = app.test_cli_runner()
    args = ["items", "import", str(path), "--competency", "CU.SK.COMM.03"]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "scenario kickoff-brief: new  (“Kick-off brief: Larkspur Analytics”, 2 items)" in dry.output
    )
    assert "scenario usage-exhibit: new  (“Usage exhibit: Brightwater Clinics”, 2 items)" in (
        dry.output
    )
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=[*args, "--dry-run"])
    assert again.exit_code == 0 and "scenario " not in again.output  # nothing new to make
    kickoff = (STIMULUS_DIR / "stimuli/kickoff.xml").read_bytes()
    path.write_bytes(
        _stimulus_package({"stimuli/kickoff.xml": kickoff.replace(b"faster", b"quicker")})
    )
    edited = runner.invoke(args=[*args, "--dry-run"])
    assert edited.exit_code == 0, edited.output
    assert "scenario kickoff-brief: new version 2 (was 1)" in edited.output
    assert "scenario usage-exhibit" not in edited.output


def _stimulus_package(replaced: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for file in sorted(STIMULUS_DIR.rglob("*")):
            if file.is_file():
                name = file.relative_to(STIMULUS_DIR).as_posix()
                archive.writestr(name, (replaced or {}).get(name, file.read_bytes()))
    return out.getvalue()
