"""Public certificate verification under gunicorn against a bare Flask route, driven by wrk.

Run from the repository root: ``.venv/bin/python bench/certificate_verify.py [--certificates N]``.
A fresh SQLite file gets N graded attempts (as ``bench/grading.py`` builds them) and a
certificate for each, a tenth of them revoked. Then wrk drives, one after the other, the
bare route (the reference), the verification page of a signed link, the same as JSON, and
the signed revocation status list. Prints a Markdown table and writes it to
``bench/results/certificate_verify.md``; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grading import build
from harness import (
    BENCH_DIR,
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    Row,
    context_line,
    port_of,
    print_table,
    request,
    serve_with_reference,
    wrk,
)
from sqlalchemy import select

from certificates import issuing, services
from certificates.models import Certificate
from core.db import get_db
from exam.models import Attempt

RESULTS = BENCH_DIR / "results" / "certificate_verify.md"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION") or 10))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    return parser.parse_args()


def issue_all(directory: Path, size: int) -> tuple[str, dict[str, str]]:
    """Certificates for every attempt, a tenth revoked; returns one signed link's token."""
    app, _ = build(size, directory)
    db = get_db(app)
    with app.app_context(), db.write_sessions() as session:
        for attempt_id in session.scalars(select(Attempt.id)):
            issuing.issue(session, attempt_id)
        certificates = list(session.scalars(select(Certificate)))
        for certificate in random.Random(5).sample(certificates, len(certificates) // 10):
            if certificate.revoked_at is None:
                services.revoke(session, None, certificate, "issued_in_error", "bench")
        session.commit()
        valid = [c for c in certificates if c.revoked_at is None]
        token = services.link_token(random.Random(7).choice(valid))
    db.dispose()
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        "CSM_INSTANCE_PATH": str(directory / "instance"),
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": "1",
        "FLASK_DEBUG": "0",
    }
    return token, env


def main() -> int:
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="csm-bench-cert-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"issuing {args.certificates} certificates ...", file=sys.stderr, flush=True)
        token, env = issue_all(tmp, args.certificates)
        targets = [
            ("bare Flask route (reference)", "reference", "/ping"),
            ("GET /healthz (the app's floor: one trivial query)", "app", "/healthz"),
            ("GET /verify/<token> (the page)", "app", f"/verify/{token}"),
            ("GET /verify/<token>.json", "app", f"/verify/{token}.json"),
            ("GET /status/revocation (signed list)", "app", "/status/revocation"),
        ]
        with serve_with_reference(env, tmp, args.workers) as urls:
            results = []
            for name, server, path in targets:
                status, body = request(port_of(urls[server]), "GET", path)
                if status != 200:
                    raise RuntimeError(f"{name}: answered {status}: {body}")
                print(f"measuring {name} ...", file=sys.stderr, flush=True)
                wrk(
                    urls[server] + path,
                    duration=1,
                    connections=args.connections,
                    threads=args.threads,
                )
                results.append(
                    (
                        name,
                        wrk(
                            urls[server] + path,
                            duration=args.duration,
                            connections=args.connections,
                            threads=args.threads,
                        ),
                    )
                )
    reference = results[0][1]
    rows = [Row(name, result, reference) for name, result in results]
    context = context_line(
        workers=args.workers,
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
        load_at_start=load_at_start,
    )
    print_table(rows, context + f" · {args.certificates} certificates", RESULTS)
    return 1 if any(row.result.error_count for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
