"""Test centre: 300 candidates behind one address sign in and start, while one client from
the same address guesses one account's password.

Run from the repository root: ``.venv/bin/python bench/test_centre.py [--candidates 300]
[--clients 32] [--mistype-every 10]``.

The real app under gunicorn (sync workers, SQLite file) with the First Level bank and a
sitting open now with ``--candidates`` admitted candidates, their passwords hashed at the
production Argon2id cost. Every request comes from 127.0.0.1, as from one test centre's
NAT address. ``--clients`` Python threads, released together, share out the candidates:
each candidate asks ``POST /api/v1/tokens`` for a token (every ``--mistype-every``-th
mistypes the password once first) and ``POST /api/v1/attempts`` to start. Meanwhile a
guesser thread sends wrong passwords for the proctor's account as fast as the server
answers, until the last candidate has started.

The reference, in the same run: the same sign-ins and starts on a second, identical
instance served with every limit off (``RATELIMIT_ENABLED=0`` and sign-in maxima no one
reaches) and no guesser. Prints a Markdown table and writes it to
``bench/results/test_centre.md``; exits 1 if a candidate was refused, the room took more
than two minutes, or the guesser had more password checks than the policy allows.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness
from exam_common import FAST_HASH, Instance, percentile, prepare_instance
from harness import BENCH_DIR, DEFAULT_WORKERS, git_revision, gunicorn, request, stop_on_sigterm

RESULTS = BENCH_DIR / "results" / "test_centre.md"
PASSWORD = "Zq7!" + secrets.token_urlsafe(18)  # the same for every account of the run
TARGET = "bench-proctor@example.org"
# The production hashing cost (core/config.py defaults): sign-in speed depends on it.
PRODUCTION_HASH = {"PASSWORD_HASH_TIME_COST": "3", "PASSWORD_HASH_MEMORY_KIB": "65536"}
LIMITS_OFF = {
    "RATELIMIT_ENABLED": "0",
    "SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS": "1000000",
    "SIGN_IN_MAX_FAILURES_PER_ACCOUNT": "1000000",
}
ROOM_DEADLINE_S = 120.0
TIMEOUT_S = 300.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--mistype-every", type=int, default=10)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--fast-hash",
        action="store_true",
        help="the tests' cheapest Argon2id cost instead of production's (a busy machine)",
    )
    return parser.parse_args()


def set_known_passwords(instance: Instance, cost: dict[str, str]) -> list[str]:
    """Every account gets PASSWORD hashed at the production cost; the candidates' emails."""
    from sqlalchemy import select, update

    from accounts.models import User
    from accounts.passwords import hash_password
    from core.db import get_db

    app = instance.app()
    app.config.update({key: int(value) for key, value in cost.items()})
    with app.app_context(), get_db(app).write_sessions() as session:
        session.execute(update(User).values(password_hash=hash_password(PASSWORD)))
        emails = list(
            session.scalars(
                select(User.email).where(User.email.like("bench-candidate-%")).order_by(User.id)
            )
        )
        session.commit()
    get_db(app).dispose()
    return emails


@dataclass
class RoomRun:
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    guesses: Counter[int] = field(default_factory=Counter)
    guess_s: float = 0.0


def _post(port: int, path: str, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
    try:
        return request(port, "POST", path, body=body, headers=headers, timeout=TIMEOUT_S)
    except OSError as exc:  # a timeout or a reset: counted, never retried
        return 0, str(exc)


def _candidate(port: int, email: str, sitting_id: int, mistype: bool, run: RoomRun) -> None:
    began = time.monotonic()
    if mistype:
        _post(port, "/api/v1/tokens", {"email": email, "password": "oops" + PASSWORD})
    status, body = _post(port, "/api/v1/tokens", {"email": email, "password": PASSWORD})
    if status != 201:
        run.outcomes[f"sign-in {status}"] += 1
        return
    bearer = f"Bearer {body['token']}"
    status, _ = _post(port, "/api/v1/attempts", {"sitting_id": sitting_id}, Authorization=bearer)
    run.outcomes["started" if status == 201 else f"start {status}"] += 1
    run.latencies_ms.append((time.monotonic() - began) * 1000)


def _guesser(port: int, stop: threading.Event, run: RoomRun) -> None:
    began = time.monotonic()
    while not stop.is_set():
        guess = {"email": TARGET, "password": "guess-" + secrets.token_hex(6)}
        status, _ = _post(port, "/api/v1/tokens", guess)
        run.guesses[status] += 1
    run.guess_s = time.monotonic() - began


def run_room(
    port: int, emails: list[str], sitting_id: int, args: argparse.Namespace, guess: bool
) -> RoomRun:
    run = RoomRun()
    queue = list(enumerate(emails))
    lock = threading.Lock()
    start = threading.Barrier(args.clients + 1)
    stop = threading.Event()

    def client() -> None:
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                n, email = queue.pop()
            _candidate(port, email, sitting_id, n % args.mistype_every == 0, run)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    guesser = threading.Thread(target=_guesser, args=(port, stop, run), daemon=True)
    for thread in threads:
        thread.start()
    if guess:
        guesser.start()
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    run.wall_s = time.monotonic() - began
    stop.set()
    if guess:
        guesser.join()
    return run


def serve_and_run(
    directory: Path, args: argparse.Namespace, *, limits: bool
) -> tuple[RoomRun, int]:
    instance = prepare_instance(directory, secrets.token_hex(16), args.candidates)
    cost = FAST_HASH if args.fast_hash else PRODUCTION_HASH
    emails = set_known_passwords(instance, cost)
    env = {**instance.env(ratelimit=limits), **cost, **({} if limits else LIMITS_OFF)}
    name = "limits on, with a guesser" if limits else "limits off (reference)"
    with gunicorn(env, log_path=directory / "app.log", workers=args.workers) as server:
        print(f"{name}: {len(emails)} candidates sign in and start ...", file=sys.stderr)
        run = run_room(server.port, emails, instance.sitting_id, args, guess=limits)
    policy = int(os.environ.get("SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS", "5"))
    return run, policy


def _row(name: str, project: float, reference: float, unit: str = "") -> str:
    ratio = f"{project / reference:.2f}" if reference else "n/a"
    return f"| {name} | {project:,.1f}{unit} | {reference:,.1f}{unit} | {ratio} |"


def table(project: RoomRun, reference: RoomRun, args: argparse.Namespace, policy: int) -> str:
    checked = project.guesses[401]
    refused = project.guesses[429]
    lines = [
        "| measure | project (limits on, guesser) | reference (limits off) | ratio |",
        "|---|---:|---:|---:|",
        _row("candidates started", project.outcomes["started"], reference.outcomes["started"]),
        _row("whole room signed in and started, s", project.wall_s, reference.wall_s),
        _row(
            "sign-in + start p50, ms",
            percentile(project.latencies_ms, 50),
            percentile(reference.latencies_ms, 50),
        ),
        _row(
            "sign-in + start p99, ms",
            percentile(project.latencies_ms, 99),
            percentile(reference.latencies_ms, 99),
        ),
        f"| guesser: tries / password checks / refused (429) | {sum(project.guesses.values())}"
        f" / {checked} / {refused} | n/a | n/a |",
        f"| guesser: password checks in {project.guess_s:,.0f} s (policy: {policy} per "
        f"15 minutes) | {checked} | n/a | n/a |",
    ]
    other = {k: v for k, v in project.outcomes.items() if k != "started"}
    context = (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.2f} at end) · gunicorn {args.workers} sync "
        f"workers · {args.candidates} candidates on {args.clients} client threads, one in "
        f"{args.mistype_every} mistyping once · Argon2id "
        f"{'t=1 m=64 KiB (--fast-hash)' if args.fast_hash else 't=3 m=64 MiB'} · "
        f"commit {git_revision()}"
    )
    if other:
        context += f" · **refused candidates: {dict(other)}**"
    return "\n".join(lines) + f"\n\n{context}\n"


def main() -> int:
    stop_on_sigterm()
    harness.START_TIMEOUT_S = (
        180.0  # loading the app at the production hash cost, on a busy machine
    )
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="csm-bench-centre-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "reference").mkdir()
        (tmp / "project").mkdir()
        reference, _ = serve_and_run(tmp / "reference", args, limits=False)
        project, policy = serve_and_run(tmp / "project", args, limits=True)
    text = table(project, reference, args, policy)
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    allowed = policy * (1 + int(project.guess_s // 900))
    failed = (
        project.outcomes["started"] != args.candidates
        or project.wall_s > ROOM_DEADLINE_S
        or project.guesses[401] > allowed
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
