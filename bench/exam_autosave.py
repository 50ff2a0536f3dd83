"""Autosave throughput: many candidates saving answers, against a bare Flask route.

Run from the repository root: ``.venv/bin/python bench/exam_autosave.py [--candidates 200]
[--duration 10] [--connections 32]``.

The real app under gunicorn (sync workers, SQLite file) with the First Level bank, a
sitting open now and ``--candidates`` admitted candidates, each of whom has started an
attempt through ``POST /api/v1/attempts``. wrk then drives
``PUT /api/v1/attempts/{id}/responses/{position}`` with a Lua script that goes round a
list of (attempt, bearer token, position, option id) saves, ordered so that consecutive
requests come from different candidates. The bare route of ``bench/reference_app.py`` is
measured in the same run under the same server settings. Afterwards the database must
hold exactly one response row per distinct (attempt, position) sent, with the value
sent, and no request may have had a 5xx.

Prints a Markdown table and writes it to ``bench/results/exam_autosave.md``; exits 1 if
a request failed or the database check failed. If an aim is missed (or with
``--profile``), runs the load again with cProfile in each worker and prints what
dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from exam_common import (
    ForeignCpu,
    Instance,
    PlannedRequest,
    ScriptResult,
    add_database_arguments,
    bench_database,
    cpu_seconds,
    database_label,
    log_problems,
    prepare_instance,
    profile_breakdown,
    profile_config,
    results_path,
    start_attempts,
    summarise_profiles,
    wait_for_quiet,
    write_request_list,
    wrk_script,
)
from harness import (
    BENCH_DIR,
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    context_line,
    gunicorn,
    reference_and_app,
    request,
    stop_on_sigterm,
)
from sqlalchemy import create_engine, text

RESULTS = BENCH_DIR / "results" / "exam_autosave.md"
PROFILE_OUT = BENCH_DIR / "results" / "exam_autosave_profile.txt"

# What the profile breakdown shows: (label, file, function), cumulative (callees included).
PROFILE_PARTS = [
    ("whole request in the worker (gunicorn: accept, parse, respond, close)", "sync.py", "handle"),
    ("Flask app (wsgi_app)", "app.py", "wsgi_app"),
    ("before-request hooks", "app.py", "preprocess_request"),
    ("· bearer token check (authenticate_api_request)", "auth.py", "authenticate_api_request"),
    ("· rate limiter (Flask-Limiter)", "_extension.py", "_check_request_limit"),
    ("the view (exam.api.save_response)", "api.py", "save_response"),
    ("· exam.handlers.autosave", "handlers.py", "autosave"),
    ("· · JSON body validation (core.api.parse_json)", "api.py", "parse_json"),
    ("· · answers.save_response (option ids, SQL, commit)", "answers.py", "save_response"),
    ("· · · option id check (option_ids.letters_for)", "option_ids.py", "letters_for"),
    ("· · · Database.single_statement (the one autocommitted upsert)", "db.py", "single_statement"),
    ("· · · SQLite executing it", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("· · · session.execute (ORM session: BEGIN IMMEDIATE + upsert)", "session.py", "execute"),
    ("· · · session.commit", "session.py", "commit"),
    ("after-request hooks (process_response)", "app.py", "process_response"),
    ("· security headers", "security.py", "_add_headers"),
    ("closing the request (teardown, session close)", "ctx.py", "pop"),
    ("gunicorn: reading and parsing the request", "parser.py", "__next__"),
    ("gunicorn: sending the response", "wsgi.py", "write"),
    ("gunicorn: closing the connection", "util.py", "close_graceful"),
]

AIM_RPS = 1_000
AIM_P99_MS = 100.0
AIM_RATIO = 0.40
AIM_RATIO_POSTGRES = 0.30  # a network round trip per statement, even on the loopback


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200, help="attempts saving (default 200)")
    parser.add_argument(
        "--positions",
        type=int,
        default=10,
        help="questions saved per attempt (1-60; default 10: the list is gone round several "
        "times per run, so every pair is sure to be saved)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=int(os.environ.get("BENCH_DURATION") or 10),
        help="seconds per target (env BENCH_DURATION; default 10)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=int(os.environ.get("BENCH_CONNECTIONS") or 32),
        help="concurrent connections (env BENCH_CONNECTIONS; default 32)",
    )
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="wrk threads")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load first")
    parser.add_argument(
        "--profile", action="store_true", help="profile the workers even if every aim is met"
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="never profile, even if an aim is missed"
    )
    parser.add_argument("--profile-duration", type=int, default=5)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each target, wait up to this many seconds for other processes to leave "
        "the cores alone (default 30; 0: do not wait)",
    )
    add_database_arguments(parser, None)
    parser.add_argument("--out", type=Path, default=None, help="where to write the table")
    args = parser.parse_args()
    if args.out is None:
        args.out = results_path(RESULTS, args)
    if min(args.candidates, args.duration, args.connections, args.threads, args.workers) < 1:
        parser.error("candidates, duration, connections, threads and workers must be at least 1")
    if not 1 <= args.positions <= 60:
        parser.error("--positions is between 1 and 60")
    if args.connections < args.threads:
        parser.error("wrk needs at least as many connections as threads")
    return args


@dataclass(frozen=True)
class Save:
    attempt_id: int
    position: int
    letter: str  # what the database must hold: the authored letter behind the option id


def plan_saves(
    instance: Instance, port: int, positions: int, seed: int = 11
) -> tuple[list[PlannedRequest], list[Save]]:
    """Start every attempt through the API and plan one save per (attempt, position),
    ordered position-major so that consecutive requests are from different candidates."""
    from exam.services.option_ids import letters_for

    rng = random.Random(seed)
    started = start_attempts(port, instance)
    columns = []
    for attempt in started:
        questions = rng.sample(attempt.questions, positions)
        column = []
        for question in questions:
            option = rng.choice(question["options"])["id"]
            (letter,) = letters_for(
                instance.secret_key, attempt.attempt_id, question["position"], [option]
            )
            request_ = PlannedRequest(
                "PUT",
                f"/api/v1/attempts/{attempt.attempt_id}/responses/{question['position']}",
                f"Bearer {attempt.candidate.token}",
                json.dumps({"selected": [option], "flagged": False}),
            )
            column.append((request_, Save(attempt.attempt_id, question["position"], letter)))
        columns.append(column)
    ordered = [column[j] for j in range(positions) for column in columns]
    return [r for r, _ in ordered], [s for _, s in ordered]


@dataclass(frozen=True)
class Check:
    rows: int
    pairs_sent: int
    wrong_value: int
    unexpected: int
    missing: int

    @property
    def ok(self) -> bool:
        return self.rows == self.pairs_sent and not (
            self.wrong_value or self.unexpected or self.missing
        )

    def describe(self) -> str:
        verdict = "OK" if self.ok else "**FAILED**"
        return (
            f"Database check {verdict}: {self.rows:,} response rows for {self.pairs_sent:,} "
            f"distinct (attempt, position) pairs sent; {self.missing} missing, "
            f"{self.unexpected} unexpected, {self.wrong_value} with another value than sent."
        )


def check_database(instance: Instance, saves: list[Save], sent: set[int]) -> Check:
    engine = create_engine(instance.database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT attempt_id, position, selected FROM response")
            ).all()
    finally:
        engine.dispose()
    rows = {
        (a, p): json.loads(selected) if isinstance(selected, str) else selected
        for a, p, selected in found
    }
    expected = {(saves[i].attempt_id, saves[i].position): saves[i].letter for i in sent}
    return Check(
        rows=len(rows),
        pairs_sent=len(expected),
        wrong_value=sum(1 for k, v in rows.items() if k in expected and v != [expected[k]]),
        unexpected=sum(1 for k in rows if k not in expected),
        missing=sum(1 for k in expected if k not in rows),
    )


def sent_indices(runs: list[ScriptResult]) -> set[int]:
    return {i for run in runs for thread in run.threads for i in thread.indices_sent()}


def table(rows: list[tuple[str, ScriptResult]], reference: ScriptResult) -> str:
    lines = [
        "| target | requests/s | p50 ms | p95 ms | p99 ms | ratio to reference | errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows:
        errors = r.describe_errors()
        if r.error_count:
            errors = f"**{errors}**"
        ratio = r.result.requests_per_s / reference.result.requests_per_s
        lines.append(
            f"| {name} | {r.result.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} "
            f"| {r.p99_ms:.2f} | {ratio:.2f} | {errors} |"
        )
    return "\n".join(lines)


def aims(autosave: ScriptResult, reference: ScriptResult, aim_ratio: float) -> tuple[str, bool]:
    ratio = autosave.result.requests_per_s / reference.result.requests_per_s
    checks = [
        (f"≥{AIM_RPS:,} autosaves/s", autosave.result.requests_per_s >= AIM_RPS,
         f"{autosave.result.requests_per_s:,.0f}"),
        (f"p99 < {AIM_P99_MS:.0f} ms", autosave.p99_ms < AIM_P99_MS, f"{autosave.p99_ms:.1f} ms"),
        (f"≥{aim_ratio:.0%} of the bare route", ratio >= aim_ratio, f"{ratio:.0%}"),
    ]  # fmt: skip
    text = "Aims: " + "; ".join(
        f"{name}: {got} ({'met' if ok else '**missed**'})" for name, ok, got in checks
    )
    return text, all(ok for _, ok, _ in checks)


def main() -> int:
    stop_on_sigterm()
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="csm-bench-autosave-") as tmp_name,
        bench_database(args.database, Path(tmp_name)) as database_url,
    ):
        tmp = Path(tmp_name)
        instance = prepare_instance(
            tmp, secrets.token_urlsafe(48), args.candidates, database_url=database_url
        )

        # Set-up server: limits off, so the set-up costs no limiter bookkeeping.
        print("starting attempts through the API ...", file=sys.stderr, flush=True)
        with gunicorn(
            instance.env(ratelimit=False), log_path=tmp / "setup.log", workers=args.workers
        ) as server:
            planned, saves = plan_saves(instance, server.port, args.positions)
        request_list = write_request_list(tmp / "saves.tsv", planned)
        ping_list = write_request_list(tmp / "ping.tsv", [PlannedRequest("GET", "/ping")])
        healthz_list = write_request_list(tmp / "healthz.tsv", [PlannedRequest("GET", "/healthz")])

        # Measured servers: the app as in production (rate limiting on), and the reference.
        runs: list[ScriptResult] = []
        sanity_sent: set[int] = set()
        with (
            reference_and_app(instance.env(ratelimit=True), tmp, args.workers) as (
                reference_server,
                app_server,
            ),
        ):
            first = planned[0]
            status, body = request(
                app_server.port,
                first.method,
                first.path,
                body=json.loads(first.body),
                headers={"Authorization": first.authorization},
            )
            if status != 200:
                raise RuntimeError(f"a save answered {status}: {body}")
            sanity_sent.add(0)

            foreign: list[float] = []

            def load(url: str, listing: Path, seconds: int, measured: bool = True) -> ScriptResult:
                meter = ForeignCpu()
                meter.start()
                result = wrk_script(
                    url,
                    listing,
                    duration=seconds,
                    connections=args.connections,
                    threads=args.threads,
                    script_dir=tmp,
                )
                if measured:
                    foreign.append(meter.stop())
                return result

            wait_for_quiet(args.quiet_wait)
            print("measuring the bare Flask route (reference) ...", file=sys.stderr, flush=True)
            if args.warmup:
                load(reference_server.url, ping_list, args.warmup, measured=False)
            reference = load(reference_server.url, ping_list, args.duration)
            wait_for_quiet(args.quiet_wait)
            print("measuring GET /healthz ...", file=sys.stderr, flush=True)
            if args.warmup:
                load(app_server.url, healthz_list, args.warmup, measured=False)
            healthz = load(app_server.url, healthz_list, args.duration)
            wait_for_quiet(args.quiet_wait)
            print("measuring autosave ...", file=sys.stderr, flush=True)
            if args.warmup:
                runs.append(load(app_server.url, request_list, args.warmup, measured=False))
            workers = app_server.worker_pids()
            cpu_before, wall_before = cpu_seconds(workers), time.monotonic()
            autosave = load(app_server.url, request_list, args.duration)
            busy = (cpu_seconds(workers) - cpu_before) / (time.monotonic() - wall_before)
            runs.append(autosave)
        problems = log_problems(tmp / "app.log")
        fives = sum(run.status["5xx"] for run in runs)
        check = check_database(instance, saves, sent_indices(runs) | sanity_sent)

        context = context_line(
            workers=args.workers,
            duration=args.duration,
            connections=args.connections,
            threads=args.threads,
            load_at_start=load_at_start,
        )
        context += (
            f" · {database_label(instance.database_url)}"
            f" · {args.candidates} candidates with a started attempt, {args.positions} questions "
            f"each: {len(planned):,} distinct saves gone round in turn, consecutive requests "
            "from different candidates · attempts were started through POST /api/v1/attempts "
            "on a set-up server with RATELIMIT_ENABLED=0 (starts are limited to 20/min per "
            "address); the measured server runs with rate limiting on · tokens made in-process "
            "with core.auth.issue_api_token · latencies from wrk's Lua done() hook · other "
            "processes on the machine used "
            + ", ".join(f"{cores:.2f}" for cores in foreign)
            + f" cores during the three measurements; the app's workers used {busy:.2f} cores "
            "during the autosave measurement"
        )
        aim_text, aims_met = aims(
            autosave, reference, AIM_RATIO if args.database == "sqlite" else AIM_RATIO_POSTGRES
        )
        targets = [
            ("bare Flask route (reference)", reference),
            ("GET /healthz (the app's lightest route: one SELECT 1)", healthz),
            ("PUT /api/v1/attempts/{id}/responses/{position}", autosave),
        ]
        text = (
            f"{table(targets, reference)}\n\n"
            f"{context}\n\n{check.describe()} 5xx responses during the runs: {fives}."
            f"{' Server log problems: ' + str(len(problems)) if problems else ''}\n\n{aim_text}\n"
        )
        failed = bool(any(r.error_count for _, r in targets) or fives or not check.ok)
        if failed:
            text += "\n**Errors during the run**: figures are not valid.\n"
            for line in problems[-20:]:
                print(line, file=sys.stderr)

        if args.profile or (not aims_met and not args.no_profile):
            print(
                f"profiling the workers for {args.profile_duration} s ...",
                file=sys.stderr,
                flush=True,
            )
            profiles = tmp / "profiles"
            with gunicorn(
                instance.env(ratelimit=True),
                log_path=tmp / "profile.log",
                workers=args.workers,
                config_file=profile_config(profiles),
            ) as server:
                wrk_script(
                    server.url,
                    request_list,
                    duration=args.profile_duration,
                    connections=args.connections,
                    threads=args.threads,
                    script_dir=tmp,
                )
            breakdown = profile_breakdown(profiles, PROFILE_PARTS, ("sync.py", "handle"))
            PROFILE_OUT.parent.mkdir(parents=True, exist_ok=True)
            PROFILE_OUT.write_text(f"{breakdown}\n\n{summarise_profiles(profiles)}")
            text += (
                f"\nWhere the workers' CPU goes (cProfile with CPU time in each worker, "
                f"{args.profile_duration} s of the same load; the profiler inflates Python-heavy "
                f"parts; full listing in {PROFILE_OUT.relative_to(BENCH_DIR.parent)}):\n\n"
                f"{breakdown}\n"
            )
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
