"""Rasch calibration (and DIF) of 300 items as the number of attempts grows.

Run from the repository root: ``.venv/bin/python bench/calibration.py [--sizes 1000 10000]``.
For each size, a fresh SQLite file gets the First Level sample bank topped up with
synthetic items to 300 approved items, and that many graded attempts, each on a random
form of 60 of them (the sparse design of forms drawn per candidate), answered under the
Rasch model; half the candidates say English is not their first language. Then it times
(a) ``run_calibration`` end to end (reading every scored response, fitting, storing the
run and auditing it), (b) the fit alone and (c) the DIF report by first language.
The references, measured in the same run on the same data: reading every answer with one
plain query (the floor of any work that looks at every answer), and girth 0.8's
``rasch_mml`` (an independent marginal estimate, with the ability SD held at 1) when the
test extras are installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from harness import BENCH_DIR, git_revision
from item_import import synthetic_records
from sqlalchemy import insert, select, text

from accounts.models import User
from core import clock
from core.db import get_db
from core.migrate import upgrade_to_head
from exam.psychometrics import calibration, fairness, rasch
from exam.psychometrics.models import CandidateBackground
from item_bank import frameworks, transfer
from item_bank.cli import load_demo_item_bank
from tests.exam.simulated import approved_versions, seed_attempts
from wsgi import create_app

RESULTS = BENCH_DIR / "results" / "calibration.md"
ITEMS = 300
FORM = 60


def build(size: int, directory: Path) -> Any:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "SECRET_KEY": "bench",
        }
    )
    db = get_db(app)
    upgrade_to_head(db.engine)
    rng = np.random.default_rng(17)
    with app.app_context(), db.write_sessions() as session:
        load_demo_item_bank(session)
        framework = frameworks.get_framework(session)
        leaves = sorted(
            c
            for c, n in frameworks.nodes_by_code(session, framework.id).items()
            if n.kind == "competency"
        )
        have = len(approved_versions(session))
        transfer.import_items(
            session,
            framework,
            synthetic_records(ITEMS - have, leaves),
            status="approved",
            actor_id=None,
            actor_label="bench",
        )
        session.commit()
        versions = [v[0] for v in approved_versions(session)]
        assert len(versions) == ITEMS
        truth = dict(zip(versions, rng.uniform(-2.5, 2.5, ITEMS).tolist(), strict=True))
        for start in range(0, size, 2_500):
            count = min(2_500, size - start)
            seed_attempts(
                session,
                abilities=rng.normal(0.5, 1.0, count).tolist(),
                difficulty=truth,
                form_length=FORM,
                rng=rng,
                prefix=f"b{start}-",
            )
        # Half the candidates say English is not their first language (for DIF).
        users = session.scalars(select(User.id).where(User.email.like("b%@example.org"))).all()
        session.execute(
            insert(CandidateBackground.__table__),
            [
                {
                    "user_id": uid,
                    "first_language": "other" if n % 2 else "english",
                    "region": "",
                    "consented_at": clock.now(),
                }
                for n, uid in enumerate(users)
            ],
        )
        session.commit()
    return app


def measure(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="csm-bench-calibration-") as tmp:
        started = time.perf_counter()
        app = build(size, Path(tmp))
        print(f"  set-up {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        db = get_db(app)
        row: dict[str, float] = {"size": size}
        with app.app_context(), db.write_sessions() as session:
            started = time.perf_counter()
            run = calibration.run_calibration(session, None, "first-level", actor_label="bench")
            row["calibration"] = time.perf_counter() - started
            assert run.persons == size, run.persons
            row["items"] = len(run.items)
            started = time.perf_counter()
            report = fairness.dif_report(session, "first-level", "first_language")
            row["dif"] = time.perf_counter() - started
            assert report.comparisons and report.comparisons[0].rows
        with app.app_context(), db.read_sessions() as session:
            data = calibration.observations(session, "first-level").data
            started = time.perf_counter()
            fitted = rasch.calibrate(data)
            row["fit"] = time.perf_counter() - started
            row["iterations"] = fitted.iterations
            started = time.perf_counter()
            rows = session.execute(
                text("SELECT attempt_id, position, selected FROM response")
            ).all()
            row["reference"] = time.perf_counter() - started
            assert len(rows) == size * FORM
        row["girth"] = _girth(data)
        db.dispose()
        return row


def _girth(data: rasch.Responses) -> float:
    try:
        import girth
    except ImportError:
        return float("nan")
    dense = np.full((data.items, data.persons), girth.INVALID_RESPONSE, dtype=int)
    dense[data.item, data.person] = data.score.astype(int)
    started = time.perf_counter()
    girth.rasch_mml(dense)
    return time.perf_counter() - started


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| attempts | items | calibration, end to end s | fit alone s (iterations) | DIF s | "
        "reference: reading every answer s | reference: girth rasch_mml (SD fixed) s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['items']:.0f} | {r['calibration']:.2f} | {r['fit']:.2f} "
            f"({r['iterations']:.0f}) | {r['dif']:.2f} | {r['reference']:.2f} | {r['girth']:.2f} |"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        lines += [
            "",
            f"Growth from {a['size']:,} to {b['size']:,} attempts (x{b['size'] / a['size']:g}): "
            f"calibration x{b['calibration'] / a['calibration']:.1f}, fit x{b['fit'] / a['fit']:.1f}, "
            f"DIF x{b['dif'] / a['dif']:.1f}.",
        ]
    last = rows[-1]
    lines.append(
        f"Aim at {last['size']:,}: calibration < 10 s: {last['calibration']:.2f} s "
        f"({'met' if last['calibration'] < 10 else '**missed**'}); DIF < 2 s: {last['dif']:.2f} s "
        f"({'met' if last['dif'] < 2 else '**missed**'}); calibration "
        f"{last['calibration'] / last['reference']:.1f} x the plain read of every answer."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        print(f"{size:,} attempts ...", file=sys.stderr, flush=True)
        rows.append(measure(size))
    text_out = (
        f"{table(rows)}\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · in-process, "
        f"SQLite file (WAL), {ITEMS} items, random forms of {FORM} · Python "
        f"{sys.version.split()[0]} · commit {git_revision()}\n"
    )
    print(text_out, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
