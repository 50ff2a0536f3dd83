"""Form assembly cost as the bank grows: assemble() on synthetic pools, load_pool() on SQLite.

Run from the repository root: ``.venv/bin/python bench/exam_assembly.py
[--sizes 1000 10000 100000] [--draws 25]``.

For each bank size it times, in-process (no server):

- ``exam.assembly.assemble()`` drawing a 60-item First-Level-shaped form (areas of
  24/12/12/12 items, the 13 sub-areas and 62 competencies of
  ``item_bank/frameworks/csa-first-level.json``) from a synthetic pool of that many
  ``PoolItem``s spread over the 62 competencies, with random exposure and about 1 %
  of items with an enemy; the median over ``--draws`` draws with different seeds;
- ``exam.services.pool.load_pool()`` (what a real start reads before assembling) on a fresh
  SQLite file holding that many approved items, imported with
  ``item_bank.transfer.import_items`` as ``bench/item_import.py`` does, each with an
  exposure row; the median over ``--loads`` reads.

- the same with the blueprint's difficulty goal (forms of equal difficulty): the bank
  carries a calibration of 90 % of its items, and each read also looks up the pool's
  difficulties and evens the drawn form out to within 0.5 items at the cut.

The sum is what an admission pays for these steps; the aim is at most 20 ms at 100,000
items, with or without the goal, growing far slower than the bank. Prints a Markdown table and writes it to
``bench/results/exam_assembly.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exam_common import ForeignCpu
from harness import BENCH_DIR, git_revision
from item_import import synthetic_records

from core import clock
from core.db import get_db
from core.migrate import upgrade_to_head
from exam.models import ItemExposure
from exam.psychometrics.models import CalibrationRun, ItemCalibration
from exam.services import pool as delivery
from exam.services.assembly import AreaRule, PoolItem, assemble
from item_bank import blueprints, frameworks, transfer
from item_bank.models import Item, ItemVersion
from wsgi import create_app

RESULTS = BENCH_DIR / "results" / "exam_assembly.md"
FRAMEWORK_FILE = frameworks.FRAMEWORKS_DIR / "csa-first-level.json"
BLUEPRINT_FILE = Path(__file__).resolve().parent.parent / "item_bank/blueprints/first-level.json"
AIM_TOTAL_MS = 20.0
FORMS_SO_FAR = 1_000
GOAL = {"tolerance_items": 0.5, "max_uncalibrated_percent": 10}
CALIBRATED_SHARE = 0.9


def cut_for(difficulties: list[float], pass_share: float) -> float:
    """The measure at which the average calibrated item is answered right ``pass_share``
    of the time (as a calibration run sets it)."""
    low, high = -8.0, 8.0
    for _ in range(50):
        middle = (low + high) / 2
        mean = sum(1 / (1 + math.exp(b - middle)) for b in difficulties) / len(difficulties)
        low, high = (middle, high) if mean < pass_share else (low, middle)
    return low


def add_calibration(session: Session, rng: random.Random, pass_share: float) -> int:
    """A calibration run of the bank (most of its items); the blueprint's id."""
    blueprint = blueprints.load_blueprint_file(session, BLUEPRINT_FILE)
    versions = list(session.scalars(select(ItemVersion.id)))
    chosen = [v for v in versions if rng.random() < CALIBRATED_SHARE]
    difficulty = {v: rng.gauss(0, 1) for v in chosen}
    run = CalibrationRun(blueprint_id=blueprint.blueprint_id, run_at=clock.now(), persons=0,
                         responses=0, population_mean=0, population_sd=1, log_likelihood=0,
                         converged=True, seconds=0, person_bands=[], left_out=[],
                         form_spread={"cut_measure": cut_for(list(difficulty.values()), pass_share)})  # fmt: skip
    session.add(run)
    session.flush()
    session.execute(
        insert(ItemCalibration),
        [
            {"run_id": run.id, "item_version_id": v, "n": 100, "p_value": 0.5,
             "difficulty": b, "se": 0.2, "infit": 1.0, "outfit": 1.0, "flags": []}
            for v, b in difficulty.items()
        ],
    )  # fmt: skip
    return blueprint.blueprint_id


def first_level_rules() -> tuple[list[AreaRule], list[str], dict[str, object]]:
    """The blueprint's areas with their sub-areas, and the competency (leaf) codes."""
    framework = json.loads(FRAMEWORK_FILE.read_text())
    spec = json.loads(BLUEPRINT_FILE.read_text())["spec"]
    subareas: dict[str, list[tuple[str, str]]] = {}
    leaves: list[str] = []
    for part in framework["parts"]:
        for section in part["sections"]:
            code = f"{part['code']}.{section['code']}"
            subareas[code] = [(f"{code}.{a['code']}", a["title"]) for a in section["areas"]]
            leaves += [c["code"] for a in section["areas"] for c in a["competencies"]]
    rules = [
        AreaRule(
            area["code"],
            area["title"],
            area["items"],
            tuple(c for c, _ in subareas[area["code"]]),
            tuple(t for _, t in subareas[area["code"]]),
        )
        for area in spec["areas"]
    ]
    return rules, leaves, spec


def synthetic_pool(
    size: int, leaves: list[str], seed: int = 3
) -> tuple[list[PoolItem], dict[int, set[int]]]:
    rng = random.Random(seed)
    pool = []
    for n in range(1, size + 1):
        kind = rng.choices(["single_choice", "multiple_response", "true_false"], [70, 15, 15])[0]
        options = {"single_choice": 4, "multiple_response": 5, "true_false": 2}[kind]
        pool.append(
            PoolItem(n, n, rng.choice(leaves), options, kind, exposure=rng.randint(0, FORMS_SO_FAR))
        )
    enemies: dict[int, set[int]] = {}
    for item_id in rng.sample(range(1, size + 1), max(1, size // 100)):
        other = rng.randint(1, size)
        if other != item_id:
            enemies.setdefault(item_id, set()).add(other)
            enemies.setdefault(other, set()).add(item_id)
    return pool, enemies


def top_functions(profile: cProfile.Profile, count: int = 6) -> str:
    """The functions with the most own time, as one line."""
    stats = pstats.Stats(profile)
    stats.strip_dirs()
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:count]  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    return "; ".join(
        f"{func} ({Path(file).name}:{line}) {own / total:.0%}"
        for (file, line, func), (_cc, _nc, own, _ct, _callers) in rows
    )


def time_assemble(size: int, draws: int, profile: bool = False) -> tuple[float, int, str]:
    rules, leaves, spec = first_level_rules()
    pool, enemies = synthetic_pool(size, leaves)
    top = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(
            assemble,
            rules,
            pool,
            seed=99,
            enemies=enemies,
            forms_so_far=FORMS_SO_FAR,
            exposure_cap_percent=float(spec.get("exposure_cap_percent", 100)),  # type: ignore[arg-type]
        )
        top = top_functions(profiler)
    times = []
    for seed in range(draws):
        started = time.perf_counter()
        form = assemble(
            rules,
            pool,
            seed=seed,
            enemies=enemies,
            forms_so_far=FORMS_SO_FAR,
            exposure_cap_percent=float(spec.get("exposure_cap_percent", 100)),  # type: ignore[arg-type]
        )
        times.append(time.perf_counter() - started)
        assert len(form.items) == 60, len(form.items)
    return statistics.median(times) * 1000, len(enemies), top


def time_load_pool(
    size: int, loads: int, profile: bool = False
) -> tuple[float, float, float, float, str]:
    """What a start pays on a fresh SQLite bank of ``size`` approved items: the median
    load_pool() ms (read whole, or sampled for a large bank), the median assemble() ms
    on what it read, the median ms of reading the pool with its difficulties and the
    evened assemble() (all a draw with the goal pays), and the largest distance from the goal's target."""
    with tempfile.TemporaryDirectory(prefix="csm-bench-assembly-") as tmp:
        directory = Path(tmp)
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
                "INSTANCE_PATH": str(directory / "instance"),
                "SECRET_KEY": "bench",
            }
        )
        db = get_db(app)
        upgrade_to_head(db.engine)
        with app.app_context(), db.write_sessions() as session:
            frameworks.load_framework_file(session, FRAMEWORK_FILE)
            framework = frameworks.get_framework(session)
            assert framework is not None
            leaves = sorted(
                c
                for c, n in frameworks.nodes_by_code(session, framework.id).items()
                if n.kind == "competency"
            )
            started = time.perf_counter()
            summary = transfer.import_items(
                session,
                framework,
                synthetic_records(size, leaves),
                status="approved",
                actor_id=None,
                actor_label="bench",
            )
            assert summary.created == size, summary
            rng = random.Random(5)
            now = clock.now()
            session.add_all(
                ItemExposure(
                    item_id=item_id,
                    forms=rng.randint(0, FORMS_SO_FAR),
                    last_used_at=now - timedelta(minutes=rng.randint(0, 10_000)),
                )
                for item_id in session.scalars(select(Item.id))
            )
            _, _, spec = first_level_rules()
            blueprint_id = add_calibration(
                session,
                rng,
                float(spec["pass_overall_percent"]) / 100,  # type: ignore[arg-type]
            )
            session.commit()
            print(
                f"  (import took {time.perf_counter() - started:.1f} s, not measured)",
                file=sys.stderr,
            )
            framework_id = framework.id
        rules, _, spec = first_level_rules()
        goal_spec = {**spec, "form_difficulty": GOAL}
        times, draws, goals, misses = [], [], [], []
        with app.app_context():
            for n in range(loads):
                with db.read_sessions() as session:
                    started = time.perf_counter()
                    pool, enemies = delivery.load_pool(
                        session, framework_id, 1, rules, random.Random(n)
                    )
                    loaded = time.perf_counter()
                    form = assemble(
                        rules,
                        pool,
                        seed=n,
                        enemies=enemies,
                        forms_so_far=FORMS_SO_FAR,
                        exposure_cap_percent=float(spec.get("exposure_cap_percent", 100)),  # type: ignore[arg-type]
                    )
                    drawn = time.perf_counter()
                    draws.append(drawn - loaded)
                    times.append(loaded - started)
                    found = delivery.difficulty_goal(session, blueprint_id, goal_spec)
                    assert found is not None
                    run_id, goal = found
                    calibrated, _ = delivery.load_pool(
                        session, framework_id, 1, rules, random.Random(n), run_id
                    )
                    evened = assemble(
                        rules,
                        calibrated,
                        seed=n,
                        enemies=enemies,
                        forms_so_far=FORMS_SO_FAR,
                        exposure_cap_percent=float(spec.get("exposure_cap_percent", 100)),  # type: ignore[arg-type]
                        goal=goal,
                    )
                    goals.append(time.perf_counter() - drawn)
                    assert goal is not None and evened.expected_at_cut is not None
                    misses.append(abs(evened.expected_at_cut - goal.target))
                assert len(form.items) == 60, len(form.items)
            top = ""
            if profile:
                profiler = cProfile.Profile()
                with db.read_sessions() as session:
                    profiler.runcall(
                        delivery.load_pool, session, framework_id, 1, rules, random.Random(1)
                    )
                top = top_functions(profiler)
        self_draw_ms = statistics.median(draws) * 1000
        db.dispose()
        goal_ms = statistics.median(goals) * 1000
        return statistics.median(times) * 1000, self_draw_ms, goal_ms, max(misses), top


@dataclass(frozen=True)
class Measure:
    size: int
    assemble_ms: float  # over the whole bank in memory: the algorithm's own growth
    load_ms: float
    draw_ms: float  # assemble() on what load_pool() read: what a start pays
    enemies: int
    # With the difficulty goal: the calibration's lookup, the pool read with difficulties
    # and the evened assemble(), all of what a draw then pays.
    goal_total_ms: float
    worst_miss: float  # items from the goal's target, the worst form

    @property
    def total_ms(self) -> float:
        return self.load_ms + self.draw_ms


def table(measures: list[Measure]) -> str:
    lines = [
        "| bank size | load_pool ms (as a start reads) | assemble on it ms | total ms (a start) "
        "| growth vs 1,000 | assemble over the whole bank in memory ms "
        "| total with the difficulty goal ms (lookup, read, evened assemble) "
        "| worst form, items from the target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = next((m for m in measures if m.size == 1_000), measures[0])
    for m in measures:
        lines.append(
            f"| {m.size:,} | {m.load_ms:.2f} | {m.draw_ms:.2f} | {m.total_ms:.2f} "
            f"| x{m.total_ms / base.total_ms:.1f} (bank x{m.size / base.size:g}) | {m.assemble_ms:.2f} "
            f"| {m.goal_total_ms:.2f} | {m.worst_miss:.2f} |"
        )
    largest = measures[-1]
    verdict = "met" if largest.total_ms <= AIM_TOTAL_MS else "**missed**"
    with_goal = "met" if largest.goal_total_ms <= AIM_TOTAL_MS else "**missed**"
    lines += [
        "",
        f"Aim: ≤{AIM_TOTAL_MS:.0f} ms total at the largest bank ({largest.size:,} items): "
        f"{largest.total_ms:.1f} ms ({verdict}); with the difficulty goal "
        f"{largest.goal_total_ms:.1f} ms ({with_goal}); "
        + (
            f"load_pool is {largest.load_ms / largest.total_ms:.0%} of it."
            if largest.total_ms
            else ""
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--draws", type=int, default=25, help="assemble() draws per size")
    parser.add_argument("--loads", type=int, default=7, help="load_pool() reads per size")
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the one profiled call of each at the largest size",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.draws < 1 or args.loads < 1 or min(args.sizes) < 100:
        parser.error("draws and loads must be at least 1, sizes at least 100")
    measures = []
    profiles = ""
    meter = ForeignCpu()
    meter.start()
    for size in sorted(args.sizes):
        print(f"bank of {size:,} ...", file=sys.stderr, flush=True)
        profile = args.profile and size == max(args.sizes)
        assemble_ms, enemies, assemble_top = time_assemble(size, args.draws, profile)
        load_ms, draw_ms, goal_ms, miss, load_top = time_load_pool(size, args.loads, profile)
        measures.append(Measure(size, assemble_ms, load_ms, draw_ms, enemies, goal_ms, miss))
        if profile:
            profiles = (
                f"\nOwn time at {size:,} items (cProfile, one call each; the profiler inflates "
                f"Python-heavy parts):\n\n- assemble: {assemble_top}\n- load_pool: {load_top}\n"
            )
    foreign = meter.stop()
    text = (
        f"{table(measures)}\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · in-process, "
        f"one core · assemble: median of {args.draws} seeds, First Level blueprint (60 items, "
        f"13 sub-areas, 62 competencies), ~1 % of items with an enemy, random exposure of "
        f"{FORMS_SO_FAR:,} forms, cap 30 % · load_pool: median of {args.loads} reads on a SQLite "
        f"file (WAL) of approved items with exposure rows, first-time candidate · other processes "
        f"on the machine used {foreign:.2f} of {os.cpu_count()} cores on average during the run · "
        f"Python {sys.version.split()[0]} · commit {git_revision()}\n{profiles}"
    )
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
