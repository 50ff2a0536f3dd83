"""Rescoring after an invalidation, and item statistics, as the number of attempts grows.

Run from the repository root: ``.venv/bin/python bench/grading.py [--sizes 1000 10000]``.
For each size, a fresh SQLite file gets the First Level sample bank and that many
submitted, graded attempts of 60 items (20 distinct forms, all sharing one item, with
random answers). Then it times (a) the invalidation of the shared item, which rescores
every attempt in one transaction, and (b) the item and exam statistics over all of them.
The reference, measured in the same run, is reading the same attempts' responses with
one plain query: the floor of any work that must look at every answer.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import BENCH_DIR, git_revision
from sqlalchemy import insert, select, text

from accounts.models import User
from core import clock
from core.db import get_db
from core.migrate import upgrade_to_head
from exam.models import Attempt, AttemptItem, Registration, Response, Sitting
from exam.services import rescoring, statistics
from exam.services.assembly import assemble
from exam.services.grading import grade_many
from exam.services.pool import load_pool
from exam.services.rules import area_rules
from item_bank import blueprints
from item_bank.cli import load_demo_item_bank
from wsgi import create_app

RESULTS = BENCH_DIR / "results" / "grading.md"
FORMS = 20


class Admin:
    id = 1
    session_version = 1

    def has_role(self, *roles: str) -> bool:
        return True


def build(size: int, directory: Path) -> tuple[Any, int]:
    """A database with ``size`` graded attempts; returns the app and the shared item's id."""
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "SECRET_KEY": "bench",
        }
    )
    db = get_db(app)
    upgrade_to_head(db.engine)
    rng = random.Random(11)
    now = clock.now()
    with app.app_context(), db.write_sessions() as session:
        load_demo_item_bank(session)
        blueprint = blueprints.get_blueprint(session, "first-level")
        version = blueprint.current
        rules = area_rules(session, version.spec, blueprint.framework_id)
        pool, enemies = load_pool(session, blueprint.framework_id, 0)
        forms = [assemble(rules, pool, seed=s, enemies=enemies).items for s in range(FORMS)]
        shared = forms[0][0].item
        forms = [
            [shared, *[d.item for d in form if d.item.item_id != shared.item_id][:59]]
            for form in forms
        ]
        session.execute(
            insert(User.__table__),
            [
                {
                    "email": f"c{n}@example.org",
                    "email_key": f"c{n}@example.org",
                    "given_name": "C",
                    "family_name": str(n),
                    "password_hash": "x",
                    "active": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for n in range(size)
            ],
        )
        user_ids = list(session.scalars(select(User.id).order_by(User.id)))
        session.execute(
            insert(Sitting.__table__),
            [
                {
                    "blueprint_id": blueprint.id,
                    "title": "Bench",
                    "opens_at": now - timedelta(hours=3),
                    "closes_at": now + timedelta(hours=3),
                    "capacity": size,
                    "mode": "online",
                    "location": "",
                    "created_at": now,
                    "revision": 1,
                }
            ],
        )
        sitting_id = session.scalar(select(Sitting.id))
        session.execute(
            insert(Registration.__table__),
            [
                {
                    "sitting_id": sitting_id,
                    "candidate_id": uid,
                    "status": "started",
                    "registered_at": now,
                    "identity_check": "",
                    "turned_away_reason": "",
                }
                for uid in user_ids
            ],
        )
        registrations = dict(
            session.execute(select(Registration.candidate_id, Registration.id)).all()
        )
        session.execute(
            insert(Attempt.__table__),
            [
                {
                    "registration_id": registrations[uid],
                    "candidate_id": uid,
                    "sitting_id": sitting_id,
                    "blueprint_version_id": version.id,
                    "seed": n,
                    "status": "submitted",
                    "started_at": now,
                    "time_limit_seconds": 5400,
                    "time_factor": 1.0,
                    "extension_seconds": 0,
                    "paused_seconds": 0,
                    "deadline_at": now + timedelta(minutes=90),
                    "finished_at": now,
                    "receipt_digest": "",
                    "state_version": 2,
                }
                for n, uid in enumerate(user_ids)
            ],
        )
        attempt_ids = list(session.scalars(select(Attempt.id).order_by(Attempt.id)))
        items, responses = [], []
        for n, attempt_id in enumerate(attempt_ids):
            form = forms[n % FORMS]
            for position, item in enumerate(form, start=1):
                items.append(
                    {
                        "attempt_id": attempt_id,
                        "position": position,
                        "item_id": item.item_id,
                        "item_version_id": item.version_id,
                        "option_order": list("ABCDEF"[: item.option_count]),
                    }
                )
                responses.append(
                    {
                        "attempt_id": attempt_id,
                        "position": position,
                        "selected": [rng.choice("ABCDEF"[: item.option_count])],
                        "flagged": False,
                        "saved_at": now,
                    }
                )
        for start in range(0, len(items), 20000):
            session.execute(insert(AttemptItem.__table__), items[start : start + 20000])
            session.execute(insert(Response.__table__), responses[start : start + 20000])
        attempts = list(session.scalars(select(Attempt)))
        grade_many(session, attempts)
        session.commit()
    return app, shared.item_id


def measure(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="csm-bench-grading-") as tmp:
        started = time.perf_counter()
        app, shared = build(size, Path(tmp))
        print(f"  set-up {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        db = get_db(app)
        with app.app_context(), db.write_sessions() as session:
            started = time.perf_counter()
            rescoring.decide_scoring(
                session, Admin(), shared, action="do_not_score", reason="Bench"
            )
            rescore_s = time.perf_counter() - started
        with app.app_context(), db.read_sessions() as session:
            started = time.perf_counter()
            stats = statistics.exam_statistics(session, "first-level")
            stats_s = time.perf_counter() - started
            assert stats.attempts == size
            started = time.perf_counter()
            rows = session.execute(
                text("SELECT attempt_id, position, selected FROM response")
            ).all()
            reference_s = time.perf_counter() - started
            assert len(rows) == size * 60
        db.dispose()
        return {"size": size, "rescore": rescore_s, "stats": stats_s, "reference": reference_s}


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| attempts | rescoring after an invalidation s | statistics s | reference: reading every answer s |",
        "|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['rescore']:.2f} | {r['stats']:.2f} | {r['reference']:.2f} |"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        factor = b["size"] / a["size"]
        lines += [
            "",
            f"Growth from {a['size']:,} to {b['size']:,} attempts (x{factor:g}): rescoring "
            f"x{b['rescore'] / a['rescore']:.1f}, statistics x{b['stats'] / a['stats']:.1f}.",
        ]
    last = rows[-1]
    lines.append(
        f"Aims at {last['size']:,}: rescoring < 5 s: {last['rescore']:.2f} s "
        f"({'met' if last['rescore'] < 5 else '**missed**'}); statistics < 2 s: {last['stats']:.2f} s "
        f"({'met' if last['stats'] < 2 else '**missed**'})."
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
        f"{table(rows)}\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · in-process, SQLite "
        f"file (WAL), 60 items per attempt, {FORMS} forms · Python {sys.version.split()[0]} · "
        f"commit {git_revision()}\n"
    )
    print(text_out, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
