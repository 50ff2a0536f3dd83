"""Start spike: every admitted candidate of a sitting presses "start" within the same seconds.

Run from the repository root: ``.venv/bin/python bench/exam_start_spike.py
[--candidates 1000] [--clients 64]``.

The real app under gunicorn (sync workers, SQLite file) with the First Level bank and a
sitting open now with ``--candidates`` admitted candidates (made in-process with the
cheapest password hashing, tokens from ``core.auth.issue_api_token``). ``--clients``
Python threads, released together by a barrier, then share out the candidates: each
candidate sends ``POST /api/v1/attempts`` exactly once (no retry). The POST's latency
is the time to the first question (its response holds the whole form). The server runs
with ``RATELIMIT_ENABLED=0``, so the figure is the start itself (starts are limited per
account, which one start per candidate never reaches; ``bench/test_centre.py`` measures
the room with every limit on).

The reference, in the same run: the same client threads sending the same number of
``GET /ping`` to the bare route of ``bench/reference_app.py`` under the same server
settings. Prints a Markdown table and writes it to ``bench/results/exam_start_spike.md``;
exits 1 if any start failed or the database does not hold one complete form per
candidate.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from exam_common import (
    Candidate,
    Client,
    ForeignCpu,
    Instance,
    add_database_arguments,
    bench_database,
    cpu_seconds,
    database_label,
    log_problems,
    percentile,
    prepare_instance,
    profile_breakdown,
    profile_config,
    refuse_servers_on_sqlite,
    results_path,
    summarise_profiles,
    wait_for_quiet,
)
from harness import (
    BENCH_DIR,
    DEFAULT_WORKERS,
    Server,
    git_revision,
    gunicorn,
    reference_and_app,
    stop_on_sigterm,
)
from sqlalchemy import create_engine, text

RESULTS = BENCH_DIR / "results" / "exam_start_spike.md"
PROFILE_OUT = BENCH_DIR / "results" / "exam_start_spike_profile.txt"
AIM_P99_S = 2.0

# What the profile breakdown shows: (label, file, function), cumulative (callees included).
PROFILE_PARTS = [
    ("whole request in the worker (gunicorn: accept, parse, respond, close)", "sync.py", "handle"),
    ("Flask app (wsgi_app)", "app.py", "wsgi_app"),
    ("before-request hooks (token check, Safe Exam Browser rule)", "app.py", "preprocess_request"),
    ("the view (exam.api.start)", "api.py", "start"),
    (
        "· short_start.start_with_token (a form drawn at admission)",
        "short_start.py",
        "start_with_token",
    ),
    ("· · reading the registration and its kept form", "short_start.py", "_read_kept"),
    ("· · writing the attempt (one transaction)", "short_start.py", "_write"),
    ("· · · statements run straight on the driver", "db.py", "raw_write"),
    ("· · · the audit row", "start_rules.py", "record_start"),
    ("· · · session.commit", "session.py", "commit"),
    (
        "· starting.start_attempt (the full path: no form kept, or started)",
        "starting.py",
        "start_attempt",
    ),
    ("· · drawing.draw_form (a form drawn at the start)", "drawing.py", "draw_form"),
    (
        "· responses.started_body (the clock around the questions rendered at admission)",
        "responses.py",
        "started_body",
    ),
    (
        "· responses.started_out (questions rendered now: no rendering kept)",
        "responses.py",
        "started_out",
    ),
    ("· · delivery.shown_questions", "delivery.py", "shown_questions"),
    ("· · · option_ids.option_ids (one keyed hash per question)", "option_ids.py", "option_ids"),
    ("· jsonify", "__init__.py", "jsonify"),
    ("SQLite executing statements", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("PostgreSQL executing statements (psycopg)", "cursor.py", "execute"),
    ("after-request hooks (process_response)", "app.py", "process_response"),
    ("gunicorn: sending the response", "wsgi.py", "write"),
]
MAX_WALL_S = 600.0  # the spike gives up (and reports) after this long


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1000, help="starts (default 1000)")
    parser.add_argument(
        "--clients", type=int, default=64, help="concurrent client threads (default 64)"
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--warmup",
        type=int,
        default=8,
        help="extra candidates started one by one before the spike, not measured (default 8)",
    )
    parser.add_argument(
        "--profile-starts",
        type=int,
        default=100,
        help="extra candidates started afterwards with cProfile in the workers if the aim "
        "is missed (0: never profile; default 100)",
    )
    parser.add_argument("--profile", action="store_true", help="profile even if the aim is met")
    parser.add_argument(
        "--aim-s",
        type=float,
        default=AIM_P99_S,
        help="every candidate served within this many seconds of the spike (default 2)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before the spike, wait up to this many seconds for other processes to leave "
        "the cores alone (default 30; 0: do not wait)",
    )
    add_database_arguments(
        parser,
        "app servers (gunicorn, each with --workers) on their own ports sharing the "
        "database; the client threads are split across them (default 1)",
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the table")
    args = parser.parse_args()
    if args.out is None:
        args.out = results_path(RESULTS, args, args.candidates)
    refuse_servers_on_sqlite(parser, args)
    if (
        min(args.candidates, args.clients, args.workers) < 1
        or min(args.warmup, args.profile_starts) < 0
    ):
        parser.error("candidates, clients and workers must be at least 1")
    return args


@dataclass(frozen=True)
class Outcome:
    index: int
    status: int  # 0: no response (connection error or timeout)
    latency_s: float  # send to last byte of the response
    since_spike_s: float  # spike start to last byte (includes waiting for a free client)
    body: bytes
    error: str = ""


@dataclass(frozen=True)
class Spike:
    outcomes: list[Outcome]
    wall_s: float

    @property
    def errors(self) -> Counter[str]:
        return Counter(
            (o.error or f"HTTP {o.status}") for o in self.outcomes if o.status not in (200, 201)
        )

    def latency(self, p: float) -> float:
        return percentile([o.latency_s for o in self.outcomes], p)

    def since_spike(self, p: float) -> float:
        return percentile([o.since_spike_s for o in self.outcomes], p)


def spike(
    ports: int | list[int],
    count: int,
    clients: int,
    method: str,
    path: str,
    body_for: list[object] | None,
    headers_for: list[dict[str, str]] | None,
) -> Spike:
    """``count`` requests, each sent exactly once, by ``clients`` threads released together;
    with several ports the threads are shared out among the servers in turn."""
    ports = [ports] if isinstance(ports, int) else ports
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = [0.0]
    deadline = time.monotonic() + MAX_WALL_S

    def work(port: int) -> None:
        client = Client(port, timeout=120.0)
        barrier.wait()
        mine = []
        while time.monotonic() < deadline:
            index = next(counter)
            if index >= count:
                break
            body = body_for[index] if body_for else None
            headers = headers_for[index] if headers_for else None
            sent = time.perf_counter()
            try:
                status, data = client.call(method, path, body, headers)
                error = ""
            except Exception as exc:  # a refused or cut connection is an error to report
                status, data, error = 0, b"", type(exc).__name__
            done = time.perf_counter()
            mine.append(Outcome(index, status, done - sent, done - start[0], data, error))
        client.close()
        with lock:
            outcomes.extend(mine)

    threads = [
        threading.Thread(target=work, args=(ports[n % len(ports)],), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    start[0] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 130))
    wall = time.perf_counter() - start[0]
    return Spike(sorted(outcomes, key=lambda o: o.index), wall)


@dataclass(frozen=True)
class DbCheck:
    attempts: int
    complete_forms: int
    candidates_with_two: int

    def ok(self, expected: int) -> bool:
        return self.attempts == expected == self.complete_forms and not self.candidates_with_two


def check_database(database_url: str) -> DbCheck:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            attempts = connection.execute(text("SELECT count(*) FROM attempt")).scalar_one()
            complete = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT attempt_id FROM attempt_item "
                    "GROUP BY attempt_id HAVING count(*) = 60) AS complete"
                )
            ).scalar_one()
            twice = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT candidate_id FROM attempt "
                    "GROUP BY candidate_id HAVING count(*) > 1) AS twice"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return DbCheck(attempts, complete, twice)


def bad_forms(result: Spike) -> int:
    """201 answers whose body is not an in-progress attempt with 60 questions."""
    bad = 0
    for outcome in result.outcomes:
        if outcome.status != 201:
            continue
        try:
            body = json.loads(outcome.body)
            ok = body["status"] == "in_progress" and len(body["questions"]) == 60
        except (ValueError, KeyError, TypeError):
            ok = False
        bad += not ok
    return bad


def table(rows: list[tuple[str, Spike, int]], reference: Spike) -> str:
    lines = [
        "| target | requests | wall s | requests/s | p50 ms | p99 ms "
        "| p50 / p99 ms since the spike began | ratio to reference | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, result, expected_status in rows:
        rate = len(result.outcomes) / result.wall_s
        ref_rate = len(reference.outcomes) / reference.wall_s
        errors = Counter(
            (o.error or f"HTTP {o.status}") for o in result.outcomes if o.status != expected_status
        )
        text = ", ".join(f"{n} {kind}" for kind, n in errors.items()) or "0"
        if errors:
            text = f"**{text}**"
        lines.append(
            f"| {name} | {len(result.outcomes):,} | {result.wall_s:.2f} | {rate:,.0f} "
            f"| {result.latency(50) * 1000:.0f} | {result.latency(99) * 1000:.0f} "
            f"| {result.since_spike(50) * 1000:.0f} / {result.since_spike(99) * 1000:.0f} "
            f"| {rate / ref_rate:.2f} | {text} |"
        )
    return "\n".join(lines)


def serve(
    stack: contextlib.ExitStack, instance: Instance, tmp: Path, workers: int, count: int
) -> tuple[list[int], list[Server]]:
    """``count`` bare reference servers and ``count`` app servers on the same database,
    each under the same gunicorn settings: the reference ports and the app servers."""
    references, servers = [], []
    for n in range(count):
        logs = tmp / f"server-{n + 1}"
        logs.mkdir(exist_ok=True)
        reference, app = stack.enter_context(
            reference_and_app(instance.env(ratelimit=False), logs, workers)
        )
        references.append(reference.port)
        servers.append(app)
    return references, servers


def main() -> int:
    stop_on_sigterm()
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="csm-bench-spike-") as tmp_name,
        bench_database(args.database, Path(tmp_name)) as database_url,
    ):
        tmp = Path(tmp_name)
        instance = prepare_instance(
            tmp,
            secrets.token_urlsafe(48),
            args.warmup + args.candidates + args.profile_starts,
            database_url=database_url,
        )
        warm = instance.candidates[: args.warmup]
        measured = instance.candidates[args.warmup : args.warmup + args.candidates]
        spare = instance.candidates[args.warmup + args.candidates :]
        with contextlib.ExitStack() as stack:
            references, servers = serve(stack, instance, tmp, args.workers, args.servers)
            ports = [server.port for server in servers]
            print("reference: the same requests to the bare route ...", file=sys.stderr)
            spike(references, args.warmup, 1, "GET", "/ping", None, None)
            reference = spike(references, args.candidates, args.clients, "GET", "/ping", None, None)

            def starts(people: list[Candidate], clients: int, to: list[int] | None = None) -> Spike:
                return spike(
                    to or ports,
                    len(people),
                    clients,
                    "POST",
                    "/api/v1/attempts",
                    [{"sitting_id": instance.sitting_id}] * len(people),
                    [c.headers for c in people],
                )

            print(f"warm-up: {args.warmup} starts one by one ...", file=sys.stderr, flush=True)
            warmup = starts(warm, 1)
            if warmup.errors:
                raise RuntimeError(f"warm-up starts failed: {dict(warmup.errors)}")
            print(
                f"spike: {args.candidates} starts from {args.clients} clients ...",
                file=sys.stderr,
                flush=True,
            )
            wait_for_quiet(args.quiet_wait)
            workers = [pid for server in servers for pid in server.worker_pids()]
            meter = ForeignCpu()
            meter.start()
            cpu_before = cpu_seconds(workers)
            result = starts(measured, args.clients)
            busy = (cpu_seconds(workers) - cpu_before) / result.wall_s
            foreign = meter.stop()
        db = check_database(instance.database_url)
        problems = [
            line
            for n in range(args.servers)
            for line in log_problems(tmp / f"server-{n + 1}" / "app.log")
        ]
        profile_text = ""
        if spare and (args.profile or result.since_spike(99) >= args.aim_s or result.errors):
            print(
                f"profiling the workers over {len(spare)} more starts ...",
                file=sys.stderr,
                flush=True,
            )
            profiles = tmp / "profiles"
            with gunicorn(
                instance.env(ratelimit=False),
                log_path=tmp / "profile.log",
                workers=args.workers,
                config_file=profile_config(profiles),
            ) as server:
                starts(spare, args.clients, [server.port])
            breakdown = profile_breakdown(profiles, PROFILE_PARTS, ("sync.py", "handle"))
            PROFILE_OUT.parent.mkdir(parents=True, exist_ok=True)
            PROFILE_OUT.write_text(f"{breakdown}\n\n{summarise_profiles(profiles)}")
            profile_text = (
                f"\nWhere the workers' CPU goes (cProfile with CPU time in each worker, "
                f"{len(spare)} more starts from {args.clients} clients; the profiler inflates "
                f"Python-heavy parts; full listing in "
                f"{PROFILE_OUT.relative_to(BENCH_DIR.parent)}):\n\n{breakdown}\n"
            )

    malformed = bad_forms(result)
    expected = args.candidates + args.warmup
    p99 = result.latency(99)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    context = (
        f"{now} · {os.cpu_count()} cores (load average {load_at_start:.2f} at start) · gunicorn "
        f"{args.workers} sync workers on each of {args.servers} server(s), "
        f"{database_label(instance.database_url)}, RATELIMIT_ENABLED=0 · "
        f"{args.candidates:,} admitted candidates, First Level "
        f"sample bank (226 items) · {args.clients} Python client threads on the same machine, "
        f"released together; each candidate starts exactly once, no retry; latency = the POST "
        f"from send to last byte (the response holds the 60 questions); 'since the spike began' "
        f"adds the wait for a free client thread · {args.warmup} unmeasured starts first · "
        f"during the spike the app's workers used {busy:.2f} cores and other processes on "
        f"the machine {foreign:.2f} cores · "
        f"Python {sys.version.split()[0]} · commit {git_revision()}"
    )
    last = result.since_spike(99)
    verdict = "met" if last < args.aim_s and not result.errors else "**missed**"
    db_ok = db.ok(expected) and not malformed
    text = (
        f"{table([('bare Flask route (reference)', reference, 200), ('POST /api/v1/attempts (start)', result, 201)], reference)}\n\n"
        f"{context}\n\n"
        f"Database check {'OK' if db_ok else '**FAILED**'}: {db.attempts:,} attempts for "
        f"{expected:,} candidates (spike and warm-up; profiled starts come after the check), {db.complete_forms:,} with 60 items, "
        f"{db.candidates_with_two} candidates with more than one; {malformed} 201 answers "
        f"without a full form."
        f"{' Server log problems: ' + str(len(problems)) + '.' if problems else ''}\n\n"
        f"Aim: no errors and every candidate served within {args.aim_s:.0f} s of the spike's "
        f"beginning (p99 since the spike began): "
        f"{len(result.outcomes) - sum(result.errors.values()):,} of {args.candidates:,} "
        f"started, p99 since the spike began {last:.2f} s, the last "
        f"{result.since_spike(100):.2f} s; p99 of a request {p99:.2f} s ({verdict}).\n"
    )
    text += profile_text
    failed = bool(result.errors or reference.errors or not db_ok)
    if failed:
        text += "\n**Errors during the run**: figures are not valid.\n"
        for line in problems[-20:]:
            print(line, file=sys.stderr)
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
