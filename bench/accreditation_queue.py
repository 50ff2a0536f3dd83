"""Server time of the accreditation queue (page and JSON) with 10,000 applications.

Run from the repository root: ``.venv/bin/python bench/accreditation_queue.py [--size N]``.
A fresh SQLite file gets the First Level framework, 40 provider organisations and N
applications spread over every state, with their audit rows. Each view is requested
through the app in-process (so the time is the server's alone, no network or client),
a lead's session and token; the reference, measured in the same run, is ``/healthz``.
Prints a Markdown table and writes it to ``bench/results/accreditation_queue.md``.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import BENCH_DIR, git_revision
from sqlalchemy import insert, select

from accounts import services as account_services
from accreditation.models import Application, Organisation
from accreditation.workflow import STATE_LABELS
from core import clock
from core.audit import AuditEvent
from core.db import get_db
from core.migrate import upgrade_to_head
from item_bank.cli import load_demo_item_bank
from item_bank.frameworks import get_framework
from wsgi import create_app

RESULTS = BENCH_DIR / "results" / "accreditation_queue.md"
PASSWORD = secrets.token_urlsafe(18)


def build(size: int, directory: Path) -> Any:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,  # the bench signs in without reading the form first
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 64,
        }
    )
    db = get_db(app)
    upgrade_to_head(db.engine)
    rng = random.Random(3)
    now = clock.now()
    with app.app_context(), db.write_sessions() as session:
        load_demo_item_bank(session)
        framework = get_framework(session)
        assert framework is not None
        users = {}
        for name, role in (("lead", "accreditation_lead"), ("assessor", "accreditation_reviewer")):
            users[name] = account_services.create_user(
                session, email=f"{name}@bench.example", given_name=name.title(),
                family_name="Bench", password=PASSWORD, roles=[role], actor_label="bench",
            )  # fmt: skip
        session.flush()
        session.execute(
            insert(Organisation.__table__),
            [
                {"legal_name": f"Provider {n}", "country": rng.choice(["GB", "DE", "US", "IE"]),
                 "website": f"https://p{n}.example", "contact_name": "Contact",
                 "contact_email": f"p{n}@bench.example", "created_at": now}
                for n in range(40)
            ],
        )  # fmt: skip
        organisations = list(session.scalars(select(Organisation.id)))
        states = [s for s in STATE_LABELS if s != "draft"]
        rows = []
        for n in range(size):
            submitted = now - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
            state = rng.choice(states)
            rows.append(
                {
                    "organisation_id": rng.choice(organisations),
                    "framework_id": framework.id,
                    "state": state,
                    "version": rng.randint(1, 9),
                    "title": f"Programme {n}",
                    "content": {"title": f"Programme {n}", "delivery_mode": "online"},
                    "created_at": submitted,
                    "updated_at": submitted,
                    "submitted_at": submitted,
                    "paused_seconds": 0,
                    "assessor_id": users["assessor"].id if rng.random() < 0.5 else None,
                    "judgements": {},
                    "recommendation": "",
                    "decision_letter": "",
                    "appealed_from": "",
                }
            )
        session.execute(insert(Application.__table__), rows)
        ids = list(session.scalars(select(Application.id)))
        session.execute(
            insert(AuditEvent.__table__),
            [
                {"occurred_at": now, "actor_id": users["lead"].id, "actor_label": "bench",
                 "action": "application.submit", "object_type": "application",
                 "object_id": str(i), "before": None, "after": None}
                for i in ids
            ],
        )  # fmt: skip
        session.commit()
    return app


def timed(client: Any, path: str, headers: dict[str, str], runs: int) -> list[float]:
    for _ in range(5):
        assert client.get(path, headers=headers).status_code == 200, path
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="csm-bench-queue-") as tmp:
        started = time.perf_counter()
        app = build(args.size, Path(tmp))
        print(f"set-up {time.perf_counter() - started:.1f} s", file=sys.stderr)
        page_client = app.test_client()
        page_client.post("/sign-in", data={"email": "lead@bench.example", "password": PASSWORD})
        api_client = app.test_client()
        token = api_client.post(
            "/api/v1/tokens", json={"email": "lead@bench.example", "password": PASSWORD}
        ).get_json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        targets = [
            ("GET /healthz (reference)", api_client, "/healthz", {}),
            ("queue page, default view (oldest first)", page_client, "/staff/accreditation", {}),
            ("queue page, filtered (under review, one assessor)", page_client,
             "/staff/accreditation?state=under_review&assessor=2&older_than_days=30", {}),
            ("queue JSON, default view", api_client, "/api/v1/accreditation/queue", bearer),
            ("queue JSON, filtered", api_client,
             "/api/v1/accreditation/queue?state=under_review&assessor=2&older_than_days=30", bearer),
        ]  # fmt: skip
        if page_client.get("/staff/accreditation").status_code != 200:
            raise RuntimeError("the lead could not open the queue")
        rows = []
        for name, client, path, headers in targets:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            samples = sorted(timed(client, path, headers, args.runs))
            rows.append((name, statistics.median(samples), samples[int(len(samples) * 0.99) - 1]))
    reference = rows[0][1]
    lines = [
        "| view | median ms | p99 ms | median / reference median |",
        "|---|---:|---:|---:|",
        *[f"| {n} | {m:.2f} | {p:.2f} | {m / reference:.1f} |" for n, m, p in rows],
        "",
        f"{args.size:,} applications · {args.runs} requests per view, in-process (server time "
        f"only) · SQLite · Python {sys.version.split()[0]} · commit {git_revision()}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
