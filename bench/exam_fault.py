"""Autosave under faults: kill -9 a gunicorn worker, then restart the whole server, mid-load;
or, with two servers on PostgreSQL, kill one server whole while the other carries on.

Run from the repository root: ``.venv/bin/python bench/exam_fault.py [--candidates 40]
[--phase 4] [--hard-restart] [--database postgres --servers 2]``.

The real app under gunicorn (sync workers, SQLite file) with the First Level bank and
``--candidates`` started attempts. ``--clients`` Python threads save answers through
``PUT /api/v1/attempts/{id}/responses/{position}``, each owning some (attempt, position)
pairs and going round them; every save carries a value different from the pair's
previous one (the option and the flag cycle), and a thread retries a failed save (no
answer, a cut connection, a 5xx) with a growing pause, as the exam page's script does
(its 1 s doubling to 15 s is scaled down here to 50 ms doubling to 1 s), until it gets
a 200. Mid-run one worker gets ``SIGKILL``; later the whole server is stopped (SIGTERM to
its process group; ``--hard-restart``: SIGKILL) and started again on the same port and
database while the clients keep trying.

Afterwards every pair's last acknowledged save (200, with its ``saved_at``) is compared
with the database: the row must hold that value, or a later save's value that was sent
but not yet acknowledged when the clients stopped. The aim is zero acknowledged saves
missing or older. Prints a Markdown table and writes it to ``bench/results/exam_fault.md``;
exits 1 if an acknowledged save was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from exam_common import (
    Client,
    ForeignCpu,
    Instance,
    StartedAttempt,
    add_database_arguments,
    bench_database,
    database_label,
    log_problems,
    prepare_instance,
    refuse_servers_on_sqlite,
    results_path,
    start_attempts,
)
from harness import BENCH_DIR, DEFAULT_WORKERS, free_port, git_revision, gunicorn, stop_on_sigterm
from sqlalchemy import create_engine, text

RESULTS = BENCH_DIR / "results" / "exam_fault.md"
FIRST_RETRY_S, MAX_RETRY_S = 0.05, 1.0
GRACE_S = 20.0  # after the run, how long a thread may go on retrying its last save


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=40, help="attempts (default 40)")
    parser.add_argument(
        "--positions", type=int, default=5, help="questions saved per attempt (default 5)"
    )
    parser.add_argument("--clients", type=int, default=16, help="client threads (default 16)")
    parser.add_argument(
        "--phase",
        type=float,
        default=4.0,
        help="seconds of load before the worker kill, between it and the restart, and "
        "after the restart (default 4)",
    )
    parser.add_argument(
        "--down", type=float, default=1.0, help="seconds the server stays down (default 1)"
    )
    parser.add_argument(
        "--hard-restart",
        action="store_true",
        help="stop the whole server with SIGKILL instead of SIGTERM",
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    add_database_arguments(
        parser,
        "with 2 (PostgreSQL only): two app servers share the database and the clients; "
        "one server is killed whole (SIGKILL) mid-load and its clients go on with the other, "
        "as behind a load balancer, until it is back",
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the table")
    args = parser.parse_args()
    if args.out is None:
        args.out = results_path(RESULTS, args)
    refuse_servers_on_sqlite(parser, args)
    if min(args.candidates, args.clients, args.workers) < 1 or not 1 <= args.positions <= 60:
        parser.error("candidates, clients, workers at least 1; positions 1-60")
    if args.phase <= 0 or args.down < 0:
        parser.error("--phase must be positive, --down not negative")
    return args


# --- the client ----------------------------------------------------------------


@dataclass
class Pair:
    attempt_id: int
    position: int
    options: list[str]  # option ids as shown
    letters: dict[str, str]  # option id -> authored letter
    headers: dict[str, str]
    rounds: int = 0
    acked: tuple[list[str], bool, datetime] | None = None  # letters, flagged, saved_at
    pending: tuple[list[str], bool] | None = None  # sent, not acknowledged when stopped

    def value(self, k: int) -> tuple[str, bool]:
        """Round ``k``'s option id and flag; consecutive rounds always differ."""
        n = len(self.options)
        return self.options[k % n], (k // n) % 2 == 1


@dataclass
class Tally:
    saves: int = 0  # distinct values sent
    requests: int = 0  # including retries
    acknowledged: int = 0
    retried_saves: int = 0
    retries: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)  # 4xx: the page gives up on these
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        with self.lock:
            self.saves += other.saves
            self.requests += other.requests
            self.acknowledged += other.acknowledged
            self.retried_saves += other.retried_saves
            self.retries += other.retries
            self.failures.update(other.failures)
            self.refused.update(other.refused)


def parse_saved_at(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def client_loop(ports: list[int], pairs: list[Pair], stop: threading.Event, total: Tally) -> None:
    """Save round the pairs; a failed save is retried, on the next server when there are
    several (a load balancer's failover)."""
    clients = [Client(port, timeout=10.0) for port in ports]
    client = clients[0]
    tally = Tally()
    grace_until: float | None = None
    index = 0
    while not stop.is_set():
        pair = pairs[index % len(pairs)]
        index += 1
        option, flagged = pair.value(pair.rounds)
        pair.rounds += 1
        body = {"selected": [option], "flagged": flagged}
        sent_value = ([pair.letters[option]], flagged)
        path = f"/api/v1/attempts/{pair.attempt_id}/responses/{pair.position}"
        tally.saves += 1
        delay, tries = FIRST_RETRY_S, 0
        while True:
            tally.requests += 1
            tries += 1
            try:
                status, data = client.call("PUT", path, body, pair.headers)
                failure = "" if status == 200 else f"HTTP {status}"
            except Exception as exc:  # refused, reset, cut short, timed out: retry
                status, data, failure = 0, b"", type(exc).__name__
            if status == 200:
                saved_at = parse_saved_at(json.loads(data)["saved_at"])
                pair.acked = (*sent_value, saved_at)
                pair.pending = None
                tally.acknowledged += 1
                break
            if 400 <= status < 500:
                tally.refused[status] += 1
                pair.pending = sent_value  # may or may not be in the database
                break
            tally.failures[failure] += 1
            pair.pending = sent_value
            client = clients[(clients.index(client) + 1) % len(clients)]
            if stop.is_set():
                grace_until = grace_until or time.monotonic() + GRACE_S
                if time.monotonic() > grace_until:
                    break
            time.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)
        if tries > 1:
            tally.retried_saves += 1
            tally.retries += tries - 1
    for each in clients:
        each.close()
    total.add(tally)


# --- the check -----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    pairs_acked: int
    exact: int  # the database holds the last acknowledged save
    later: int  # it holds a later save, sent but not acknowledged when the clients stopped
    missing: int
    older: int
    unacked_at_end: int


def _as_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return parse_saved_at(value)


def check_database(instance: Instance, pairs: list[Pair]) -> Verdict:
    engine = create_engine(instance.database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT attempt_id, position, selected, flagged, saved_at FROM response")
            ).all()
    finally:
        engine.dispose()
    rows = {
        (a, p): (
            json.loads(selected) if isinstance(selected, str) else selected,
            bool(flagged),
            _as_time(saved_at),
        )
        for a, p, selected, flagged, saved_at in found
    }
    exact = later = missing = older = 0
    for pair in pairs:
        if pair.acked is None:
            continue
        row = rows.get((pair.attempt_id, pair.position))
        letters, flagged, saved_at = pair.acked
        if row is None:
            missing += 1
        elif row == (letters, flagged, saved_at):
            exact += 1
        elif pair.pending is not None and (row[0], row[1]) == pair.pending and row[2] > saved_at:
            later += 1
        else:
            older += 1
    return Verdict(
        pairs_acked=sum(1 for p in pairs if p.acked is not None),
        exact=exact,
        later=later,
        missing=missing,
        older=older,
        unacked_at_end=sum(1 for p in pairs if p.pending is not None),
    )


# --- the run -------------------------------------------------------------------


def make_pairs(instance: Instance, started: list[StartedAttempt], positions: int) -> list[Pair]:
    from exam.services.option_ids import letters_for

    pairs = []
    for attempt in started:
        for question in attempt.questions[:positions]:
            options = [o["id"] for o in question["options"]]
            letters = {
                option: letters_for(
                    instance.secret_key, attempt.attempt_id, question["position"], [option]
                )[0]
                for option in options
            }
            pairs.append(
                Pair(
                    attempt.attempt_id,
                    question["position"],
                    options,
                    letters,
                    attempt.candidate.headers,
                )
            )
    return pairs


def run_one_server(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, instance: Instance, run: Run
) -> None:
    """One server: kill a worker mid-load, then stop the whole server and start it again."""
    port = free_port()
    with gunicorn(env, log_path=tmp / "app.log", port=port, workers=args.workers) as server:
        run.begin(instance, [port], args)
        time.sleep(args.phase)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        run.note(f"SIGKILL to worker {victim}")
        time.sleep(args.phase)
        if args.hard_restart:
            os.killpg(server.process.pid, signal.SIGKILL)
            run.note("SIGKILL to the whole server (arbiter and workers)")
        else:
            run.note("stopping the server (SIGTERM to arbiter and workers)")
    run.note("server stopped")
    time.sleep(args.down)
    run.note("starting the server again on the same port and database")
    with gunicorn(env, log_path=tmp / "app.log", port=port, workers=args.workers):
        run.note("server answering again")
        time.sleep(args.phase)
        run.finish()


def run_two_servers(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, instance: Instance, run: Run
) -> None:
    """Two servers sharing the database: one is killed whole (SIGKILL) mid-load, the other
    carries its clients until the first is back on the same port."""
    first, second = free_port(), free_port()
    with gunicorn(env, log_path=tmp / "app-2.log", port=second, workers=args.workers):
        with gunicorn(env, log_path=tmp / "app.log", port=first, workers=args.workers) as one:
            run.begin(instance, [first, second], args)
            time.sleep(args.phase)
            os.killpg(one.process.pid, signal.SIGKILL)
            run.note(f"SIGKILL to server 1 (port {first}: arbiter and workers); server 2 goes on")
        time.sleep(args.phase)
        run.note("starting server 1 again on the same port and database")
        with gunicorn(env, log_path=tmp / "app.log", port=first, workers=args.workers):
            run.note("server 1 answering again")
            time.sleep(args.phase)
            run.finish()


@dataclass
class Run:
    """The clients of one fault run and its log of events."""

    stop: threading.Event = field(default_factory=threading.Event)
    total: Tally = field(default_factory=Tally)
    threads: list[threading.Thread] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    t0: float = 0.0

    def note(self, text: str) -> None:
        line = f"t={time.monotonic() - self.t0:5.1f} s  {text}"
        self.events.append(line)
        print(line, file=sys.stderr, flush=True)

    def begin(self, instance: Instance, ports: list[int], args: argparse.Namespace) -> None:
        """Start the attempts and the clients; client n sends to server n mod servers first."""
        self.pairs = make_pairs(instance, start_attempts(ports[0], instance), args.positions)
        shares = [self.pairs[i :: args.clients] for i in range(args.clients)]
        self.threads = [
            threading.Thread(
                target=client_loop,
                args=(
                    ports[n % len(ports) :] + ports[: n % len(ports)],
                    share,
                    self.stop,
                    self.total,
                ),
            )
            for n, share in enumerate(shares)
            if share
        ]
        self.t0 = time.monotonic()
        for thread in self.threads:
            thread.start()
        self.note(
            f"{len(self.threads)} clients saving {len(self.pairs)} (attempt, position) pairs "
            f"through {len(ports)} server(s)"
        )

    def finish(self) -> None:
        self.stop.set()
        self.note("clients told to stop (each finishes its save in progress)")
        self.join()
        self.note("clients stopped")

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=GRACE_S + 15)


def main() -> int:
    stop_on_sigterm()
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    run = Run()
    with (
        tempfile.TemporaryDirectory(prefix="csm-bench-fault-") as tmp_name,
        bench_database(args.database, Path(tmp_name)) as database_url,
    ):
        tmp = Path(tmp_name)
        instance = prepare_instance(
            tmp, secrets.token_urlsafe(48), args.candidates, database_url=database_url
        )
        env = instance.env(ratelimit=False)  # the set-up starts every attempt from one address
        meter = ForeignCpu()
        meter.start()
        try:
            (run_two_servers if args.servers == 2 else run_one_server)(
                args, env, tmp, instance, run
            )
        finally:
            run.join()
        foreign = meter.stop()
        verdict = check_database(instance, run.pairs)
        problems = log_problems(tmp / "app.log") + (
            log_problems(tmp / "app-2.log") if args.servers == 2 else []
        )
        database = database_label(instance.database_url)
    total, pairs, events = run.total, run.pairs, run.events
    fault = (
        "server 1 killed whole (SIGKILL) mid-load, its clients failing over to server 2, "
        "then started again,"
        if args.servers == 2
        else f"{'hard' if args.hard_restart else 'graceful'} restart,"
    )

    lost = verdict.missing + verdict.older
    failures = ", ".join(f"{n} {kind}" for kind, n in total.failures.most_common()) or "none"
    refused = ", ".join(f"{n} HTTP {s}" for s, n in sorted(total.refused.items())) or "none"
    lines = [
        "| saves attempted | requests (with retries) | acknowledged (200) | retried saves "
        "| retries | missing | older | unacknowledged at the end |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {total.saves:,} | {total.requests:,} | {total.acknowledged:,} | {total.retried_saves:,} "
        f"| {total.retries:,} | {verdict.missing} | {verdict.older} | {verdict.unacked_at_end} |",
    ]
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    context = (
        f"{now} · {os.cpu_count()} cores (load average {load_at_start:.2f} at start) · gunicorn "
        f"{args.workers} sync workers on each of {args.servers} server(s), {database} · {args.candidates} "
        f"attempts x {args.positions} questions = {len(pairs)} pairs, {args.clients} Python "
        f"client threads; retry pause {FIRST_RETRY_S * 1000:.0f} ms doubling to "
        f"{MAX_RETRY_S:.0f} s · {fault} "
        f"{args.down:g} s down · other processes on the machine used {foreign:.2f} cores · Python {sys.version.split()[0]} · commit {git_revision()}"
    )
    text = (
        "\n".join(lines)
        + f"\n\n{context}\n\nEvents:\n\n"
        + "\n".join(f"    {e}" for e in events)
        + f"\n\nFailed requests (retried): {failures}. Refused (4xx, not retried): {refused}.\n"
        f"Check: {verdict.pairs_acked} pairs with an acknowledged save; the database holds the "
        f"last acknowledged value for {verdict.exact}, a later unacknowledged one for "
        f"{verdict.later}; missing {verdict.missing}, older {verdict.older}."
        f"{' Server log problems: ' + str(len(problems)) + '.' if problems else ''}\n\n"
        f"Aim: zero acknowledged saves missing or older: {lost} ({'met' if not lost else '**missed**'}).\n"
    )
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 1 if lost or total.refused else 0


if __name__ == "__main__":
    sys.exit(main())
