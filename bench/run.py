"""HTTP throughput of the app against a bare Flask route, both under gunicorn, driven by wrk.

Run from the repository root: ``.venv/bin/python bench/run.py [--duration S] [--connections N]``.
Prints a Markdown table and writes it to ``bench/results/latest.md``; exits 1 if any
request failed during a measurement (the figures of such a run are not valid).

To add a target, add a line to ``TARGETS``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import (
    BENCH_DIR,
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    REPO_ROOT,
    Result,
    Row,
    context_line,
    port_of,
    print_table,
    request,
    serve_with_reference,
    stop_on_sigterm,
    wrk,
)

RESULTS = BENCH_DIR / "results" / "latest.md"
BENCH_EMAIL = "bench-candidate@example.org"


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # "reference" or "app"
    path: str
    bearer: bool = False


# The first target is the reference every ratio is computed against.
TARGETS = [
    Target("bare Flask route (reference)", "reference", "/ping"),
    Target("GET /healthz", "app", "/healthz"),
    Target("GET /api/v1/me (bearer token)", "app", "/api/v1/me", bearer=True),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument(
        "--warmup", type=int, default=1, help="seconds of unmeasured load per target first"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the table")
    args = parser.parse_args()
    if args.duration < 1 or args.connections < 1 or args.threads < 1 or args.workers < 1:
        parser.error("duration, connections, threads and workers must be at least 1")
    if args.connections < args.threads:
        parser.error("wrk needs at least as many connections as threads")
    return args


def prepare_instance(tmp: Path, secret_key: str, password: str) -> dict[str, str]:
    """Migrate a fresh SQLite database and create one user; return the server's environment."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import wsgi
    from accounts import services
    from core.db import get_db
    from core.migrate import upgrade_to_head

    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    instance = tmp / "instance"
    instance.mkdir()
    app = wsgi.create_app(
        {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), "SECRET_KEY": secret_key}
    )
    db = get_db(app)
    upgrade_to_head(db.engine)
    with app.app_context(), db.write_sessions() as session:
        services.create_user(
            session,
            email=BENCH_EMAIL,
            given_name="Bench",
            family_name="Candidate",
            password=password,
            roles=["candidate"],
            actor_label="bench",
        )
        session.commit()
    db.dispose()
    return {
        "DATABASE_URL": database_url,
        "CSM_INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret_key,
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SQL_ECHO": "0",
        "FLASK_DEBUG": "0",
        "PROXY_FIX_X_FOR": "0",
    }


def get_token(app_url: str, password: str) -> str:
    status, body = request(
        port_of(app_url),
        "POST",
        "/api/v1/tokens",
        body={"email": BENCH_EMAIL, "password": password},
    )
    if status != 201 or not isinstance(body, dict) or "token" not in body:
        raise RuntimeError(f"POST /api/v1/tokens answered {status}: {body}")
    return str(body["token"])


def measure(
    target: Target, base_url: str, headers: dict[str, str], args: argparse.Namespace
) -> Result:
    """Check the target answers 200, warm it up, then measure it."""
    status, body = request(port_of(base_url), "GET", target.path, headers=headers)
    if status != 200:
        raise RuntimeError(f"{target.name}: GET {target.path} answered {status}: {body}")
    url = base_url + target.path
    if args.warmup:
        wrk(url, headers, duration=args.warmup, connections=args.connections, threads=args.threads)
    return wrk(
        url, headers, duration=args.duration, connections=args.connections, threads=args.threads
    )


def run(args: argparse.Namespace) -> list[Row]:
    password = secrets.token_urlsafe(18)
    with tempfile.TemporaryDirectory(prefix="csm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        app_env = prepare_instance(tmp, secrets.token_urlsafe(48), password)
        with serve_with_reference(app_env, tmp, args.workers) as urls:
            bearer = {"Authorization": f"Bearer {get_token(urls['app'], password)}"}
            results: list[tuple[Target, Result]] = []
            for target in TARGETS:
                headers = bearer if target.bearer else {}
                print(f"measuring {target.name} ...", file=sys.stderr, flush=True)
                results.append((target, measure(target, urls[target.server], headers, args)))
            if any(result.error_count for _, result in results):
                for name in ("app.log", "reference.log"):
                    log = (tmp / name).read_text(errors="replace").splitlines()[-40:]
                    print(f"--- tail of {name} ---", *log, sep="\n", file=sys.stderr)
    reference = results[0][1]
    return [Row(target.name, result, reference) for target, result in results]


def main() -> int:
    stop_on_sigterm()
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    rows = run(args)
    context = context_line(
        workers=args.workers,
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
        load_at_start=load_at_start,
    )
    print_table(rows, context, args.out)
    return 1 if any(row.result.error_count for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
