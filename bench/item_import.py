"""Item import speed: synthetic banks of 10,000 and 100,000 items into a fresh SQLite file.

Run from the repository root:
``.venv/bin/python bench/item_import.py [--sizes 10000 100000] [--qti-size 10000]
[--qti-images 2000]``.
For each size it times validation alone (a dry run) and the full all-or-nothing import,
and, as the reference measured in the same run, plain ``sqlite3.executemany`` writing
the same records as JSON into one table of the same database kind: the floor that any
import through the app's rules and schema is compared with.

A second table times a QTI 2.1 content package of ``--qti-size`` items (10,000 by default),
``--qti-images`` of which (2,000) show an image of their own, both ways: its import (unzip,
parse, map, check every image by decoding it, store it by hash, the same all-or-nothing
write) and its export (every image written into the package), beside the JSON file of the
same items imported and exported in the same run (each the quickest of three runs; the
JSON records name images already stored, so JSON moves no image bytes).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import BENCH_DIR, git_revision
from PIL import Image, ImageDraw

from core.db import get_db
from core.migrate import upgrade_to_head
from item_bank import frameworks, transfer
from item_bank.services.media import store_media
from wsgi import create_app

RESULTS = BENCH_DIR / "results" / "item_import.md"


def synthetic_records(count: int, leaves: list[str], seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        kind = rng.choices(["single_choice", "multiple_response", "true_false"], [70, 15, 15])[0]
        if kind == "true_false":
            options, keys, choose = ["True", "False"], [rng.choice("AB")], None
        elif kind == "multiple_response":
            options, keys, choose = (
                [f"Option {c} of item {n}" for c in "ABCDE"],
                sorted(rng.sample("ABCDE", 2)),
                2,
            )
        else:
            options, keys, choose = (
                [f"Option {c} of item {n}" for c in "ABCD"],
                [rng.choice("ABCD")],
                None,
            )
        records.append(
            {
                "ref": f"SYN-{n:07d}",
                "type": kind,
                "stem": f"Synthetic question {n}: which option is the best answer in this situation?",
                "options": options,
                "keys": keys,
                "choose": choose,
                "rationale": f"Rationale for synthetic item {n}, explaining the key and each distractor.",
                "references": ["CSA CSM Competency Standard: First Level (v1.2)"],
                "competencies": [rng.choice(leaves)],
                "cognitive_level": rng.choice(["recall", "application", "analysis"]),
                "enemies": [f"SYN-{n - 1:07d}"] if n and n % 100 == 0 else [],
            }
        )
    return records


@dataclass(frozen=True)
class Measure:
    size: int
    validate_s: float
    import_s: float
    reference_s: float

    def rate(self, seconds: float) -> float:
        return self.size / seconds


def _fresh_app(directory: Path) -> Any:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "SECRET_KEY": "bench",
        }
    )
    upgrade_to_head(get_db(app).engine)
    return app


def _reference(directory: Path, records: list[dict[str, Any]]) -> float:
    connection = sqlite3.connect(directory / "reference.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE record (ref TEXT UNIQUE, body TEXT)")
    rows = [(r["ref"], json.dumps(r)) for r in records]
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO record VALUES (?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def measure(size: int) -> Measure:
    with tempfile.TemporaryDirectory(prefix="csm-bench-import-") as tmp:
        directory = Path(tmp)
        app = _fresh_app(directory)
        db = get_db(app)
        with app.app_context(), db.write_sessions() as session:
            frameworks.load_framework_file(
                session, frameworks.FRAMEWORKS_DIR / "csa-first-level.json"
            )
            framework = frameworks.get_framework(session)
            leaves = [
                c
                for c, n in frameworks.nodes_by_code(session, framework.id).items()
                if n.kind == "competency"
            ]
            records = synthetic_records(size, sorted(leaves))
            started = time.perf_counter()
            transfer.import_items(
                session,
                framework,
                records,
                status="approved",
                actor_id=None,
                actor_label="bench",
                dry_run=True,
            )
            validate_s = time.perf_counter() - started
            started = time.perf_counter()
            summary = transfer.import_items(
                session, framework, records, status="approved", actor_id=None, actor_label="bench"
            )
            import_s = time.perf_counter() - started
            assert summary.created == size, summary
        db.dispose()
        return Measure(size, validate_s, import_s, _reference(directory, records))


@dataclass(frozen=True)
class FormatMeasure:
    name: str
    size: int
    import_s: float
    export_s: float
    file_bytes: int


def _bank(directory: Path) -> tuple[Any, list[str]]:
    directory.mkdir()
    app = _fresh_app(directory)
    with app.app_context(), get_db(app).write_sessions() as session:
        frameworks.load_framework_file(session, frameworks.FRAMEWORKS_DIR / "csa-first-level.json")
        framework = frameworks.get_framework(session)
        leaves = sorted(
            c
            for c, n in frameworks.nodes_by_code(session, framework.id).items()
            if n.kind == "competency"
        )
    return app, leaves


def synthetic_image(n: int) -> bytes:
    """A small chart, different for every ``n`` (so each is stored once, on its own)."""
    rng = random.Random(n)
    image = Image.new("RGB", (160, 90), "white")
    draw = ImageDraw.Draw(image)
    for bar in range(4):
        height = rng.randint(10, 80)
        draw.rectangle((10 + bar * 38, 88 - height, 40 + bar * 38, 88), fill=(n % 256, 80, 160))
    draw.text((4, 2), str(n), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def with_images(app: Any, records: list[dict[str, Any]], images: int) -> None:
    """The first ``images`` records each show an image, stored in ``app``'s bank first."""
    with app.app_context(), get_db(app).write_sessions() as session:
        for n, record in enumerate(records[:images]):
            stored = store_media(session, synthetic_image(n), f"chart-{n}.png")
            record["media"] = [{"sha256": stored.sha256, "alt": f"Bar chart {n} of four bars."}]
        session.commit()


def _import_file(app: Any, name: str, data: bytes) -> float:
    with app.app_context(), get_db(app).write_sessions() as session:
        framework = frameworks.get_framework(session)
        started = time.perf_counter()
        upload = transfer.parse_upload(name, data)
        summary = transfer.import_items(
            session,
            framework,
            upload.records,
            status="approved",
            actor_id=None,
            actor_label="bench",
        )
        elapsed = time.perf_counter() - started
        assert summary.created == len(upload.records) and not summary.errors, summary.errors[:3]
    return elapsed


def _export_file(app: Any, fmt: str) -> tuple[bytes, float]:
    with app.app_context(), get_db(app).read_sessions() as session:
        started = time.perf_counter()
        body, _count = transfer.export_bytes(session, frameworks.get_framework(session), fmt)
        return body, time.perf_counter() - started


def measure_formats(size: int, images: int, repeats: int = 3) -> list[FormatMeasure]:
    """JSON and QTI, each imported into a fresh bank and exported from it; the quickest of
    ``repeats`` runs of each (the machine may be busy with something else meanwhile)."""
    json_import = json_export = qti_import = qti_export = float("inf")
    with tempfile.TemporaryDirectory(prefix="csm-bench-qti-") as tmp:
        for run in range(repeats):
            first, leaves = _bank(Path(tmp) / f"json-{run}")
            records = synthetic_records(size, leaves)
            with_images(first, records, images)
            data = json.dumps(records).encode()
            json_import = min(json_import, _import_file(first, "items.json", data))
            _json, seconds = _export_file(first, "json")
            json_export = min(json_export, seconds)
            package, seconds = _export_file(first, "qti")
            qti_export = min(qti_export, seconds)
            second, _leaves = _bank(Path(tmp) / f"qti-{run}")
            qti_import = min(qti_import, _import_file(second, "items.zip", package))
            for app in (first, second):
                get_db(app).dispose()
    pictured = f", {images:,} with images"
    return [
        FormatMeasure(f"JSON (reference){pictured}", size, json_import, json_export, len(data)),
        FormatMeasure(f"QTI 2.1 package{pictured}", size, qti_import, qti_export, len(package)),
    ]


def format_table(measures: list[FormatMeasure]) -> str:
    reference = measures[0]
    lines = [
        "| format | items | import items/s | export items/s | file | import / JSON import "
        "| export / JSON export |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        lines.append(
            f"| {m.name} | {m.size:,} | {m.size / m.import_s:,.0f} | {m.size / m.export_s:,.0f} "
            f"| {m.file_bytes / 1e6:.1f} MB | {reference.import_s / m.import_s:.2f} "
            f"| {reference.export_s / m.export_s:.2f} |"
        )
    return "\n".join(lines)


def table(measures: list[Measure]) -> str:
    lines = [
        "| items | import items/s | import s | validation only items/s "
        "| reference rows/s (sqlite3 executemany) | import / reference |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        lines.append(
            f"| {m.size:,} | {m.rate(m.import_s):,.0f} | {m.import_s:.2f} | {m.rate(m.validate_s):,.0f} "
            f"| {m.rate(m.reference_s):,.0f} | {m.reference_s / m.import_s:.2f} |"
        )
    if len(measures) >= 2:
        first, last = measures[0], measures[-1]
        growth = (last.import_s / first.import_s) / (last.size / first.size)
        lines.append("")
        lines.append(
            f"Growth from {first.size:,} to {last.size:,} items: time x{last.import_s / first.import_s:.1f} "
            f"for x{last.size // first.size} the items (1.0 = linear: {growth:.2f})."
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--qti-size", type=int, default=10_000)
    parser.add_argument("--qti-images", type=int, default=2_000)
    args = parser.parse_args()
    measures = [measure(size) for size in args.sizes]
    formats = measure_formats(args.qti_size, min(args.qti_images, args.qti_size))
    text = (
        f"{table(measures)}\n\n{format_table(formats)}\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · SQLite file "
        f"(WAL) · Python {sys.version.split()[0]} · commit {git_revision()}\n"
    )
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
