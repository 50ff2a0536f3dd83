"""Shared set-up for the exam benchmarks.

An instance with the First Level framework, blueprint and sample bank, a sitting
open now, and admitted candidates with API bearer tokens (made in-process, with the
same SECRET_KEY as the server); gunicorn on a chosen port, with its workers'
process ids; wrk driven by a generated Lua script that round-robins over a list of
prepared requests and reports p50/p90/p95/p99 and status classes.

Everything listens on and talks to 127.0.0.1 only. Import this module from a script
in ``bench/`` (``from exam_common import ...``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import (
    HOST,
    REPO_ROOT,
    WRK,
    Result,
    parse_wrk,
    request,
)

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Argon2 at its cheapest: only the set-up creates passwords, nothing measured checks one.
FAST_HASH = {"PASSWORD_HASH_TIME_COST": "1", "PASSWORD_HASH_MEMORY_KIB": "64"}


# --- the instance ------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    user_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Instance:
    directory: Path
    database_url: str
    secret_key: str
    sitting_id: int
    candidates: list[Candidate] = field(default_factory=list)
    password: str = ""  # every bench user's (a browser bench signs in through the form)

    def env(self, *, ratelimit: bool) -> dict[str, str]:
        """The server's environment; ``ratelimit=False`` lifts Flask-Limiter's per-address limits."""
        return {
            "DATABASE_URL": self.database_url,
            "CSM_INSTANCE_PATH": str(self.directory / "instance"),
            "SECRET_KEY": self.secret_key,
            "RATELIMIT_ENABLED": "1" if ratelimit else "0",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SQL_ECHO": "0",
            "FLASK_DEBUG": "0",
            "PROXY_FIX_X_FOR": "0",
            **FAST_HASH,
        }

    def app(self) -> Any:
        """An in-process app on the same database and secret (for set-up and checks)."""
        from wsgi import create_app

        return create_app(
            {
                "DATABASE_URL": self.database_url,
                "INSTANCE_PATH": str(self.directory / "instance"),
                "SECRET_KEY": self.secret_key,
                "PASSWORD_HASH_TIME_COST": 1,
                "PASSWORD_HASH_MEMORY_KIB": 64,
            }
        )


@contextlib.contextmanager
def bench_database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh database for one run: a SQLite file in ``directory`` (``sqlite``), or a
    throwaway PostgreSQL 15 cluster started by the script the tests use (``postgres``),
    stopped and removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'bench.sqlite3'}"
        return
    directory.chmod(0o755)  # the cluster runs as user postgres when the bench runs as root
    cluster = directory / "pg"
    script = str(REPO_ROOT / "scripts" / "postgres-cluster.sh")
    url = subprocess.run(
        [script, "start", str(cluster)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop", str(cluster)], check=False)


def add_database_arguments(parser: argparse.ArgumentParser, servers_help: str | None) -> None:
    """``--database`` for every exam benchmark, and ``--servers`` where two app servers
    can share a PostgreSQL database (``servers_help`` says what two servers do)."""
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="a SQLite file, or a throwaway PostgreSQL cluster (scripts/postgres-cluster.sh)",
    )
    if servers_help is not None:
        parser.add_argument("--servers", type=int, choices=(1, 2), default=1, help=servers_help)


def results_path(default: Path, args: argparse.Namespace, *extra: object) -> Path:
    """Where a run writes its table: the default for one server on SQLite, else a name
    that says the database, the servers and ``extra``."""
    servers = getattr(args, "servers", 1)
    if (args.database, servers) == ("sqlite", 1):
        return default
    parts = [args.database, *([f"{servers}-servers"] if servers > 1 else []), *map(str, extra)]
    return default.with_name(f"{default.stem}-{'-'.join(parts)}{default.suffix}")


def refuse_servers_on_sqlite(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.servers > 1 and args.database == "sqlite":
        parser.error("two servers share a database over the network: use --database postgres")


def database_label(database_url: str) -> str:
    return "PostgreSQL 15" if database_url.startswith("postgresql") else "SQLite file (WAL)"


def prepare_instance(
    directory: Path,
    secret_key: str,
    candidates: int,
    *,
    progress: bool = True,
    database_url: str | None = None,
) -> Instance:
    """Migrate a fresh database (a SQLite file in ``directory`` unless ``database_url``
    names another), load the First Level bank, open a sitting now, and create
    ``candidates`` admitted candidates (registered, checked in, admitted by a proctor,
    which draws each one's form) with one API token each."""
    os.environ.update(FAST_HASH)
    from accounts import services
    from core import clock
    from core.auth import issue_api_token
    from core.db import get_db
    from core.migrate import upgrade_to_head
    from exam.services import admission, sittings
    from exam.services import registration as registrations
    from item_bank.cli import load_demo_item_bank

    (directory / "instance").mkdir(exist_ok=True)
    url = database_url or f"sqlite:///{directory / 'bench.sqlite3'}"
    instance = Instance(directory, url, secret_key, 0)
    app = instance.app()
    db = get_db(app)
    upgrade_to_head(db.engine)
    password = "Zq7!" + secrets.token_urlsafe(18)
    instance.password = password
    started = time.monotonic()
    with app.app_context(), db.write_sessions() as session:
        with contextlib.redirect_stdout(sys.stderr):  # the loader reports with click.echo
            load_demo_item_bank(session)
        session.commit()

        def user(email: str, given: str, roles: list[str]) -> Any:
            return services.create_user(
                session,
                email=email,
                given_name=given,
                family_name="Bench",
                password=password,
                roles=roles,
                actor_label="bench",
            )

        admin = user("bench-admin@example.org", "Admin", ["exam_admin"])
        proctor = user("bench-proctor@example.org", "Proctor", ["proctor"])
        now = clock.now()
        sitting = sittings.schedule_sitting(
            session,
            admin,
            sittings.SittingInput(
                blueprint_code="first-level",
                title="Benchmark sitting",
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(hours=6),
                capacity=10_000,
                mode="online",
                proctor_ids=(proctor.id,),
            ),
        )
        instance.sitting_id = sitting.id
        for n in range(candidates):
            candidate = user(f"bench-candidate-{n:05d}@example.org", f"Candidate{n}", ["candidate"])
            registration = registrations.register(session, candidate, sitting)
            registrations.check_in(session, candidate, registration)
            admission.admit(session, proctor, registration, "Passport, last digits 0000")
            token, _ = issue_api_token(candidate)
            instance.candidates.append(Candidate(candidate.id, token))
            if progress and (n + 1) % 250 == 0:
                print(f"  {n + 1} candidates admitted", file=sys.stderr, flush=True)
    db.dispose()
    if progress:
        print(
            f"set-up: bank, sitting and {candidates} admitted candidates in "
            f"{time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return instance


# --- starting attempts through the API ----------------------------------------


@dataclass(frozen=True)
class StartedAttempt:
    candidate: Candidate
    attempt_id: int
    questions: list[dict[str, Any]]


def start_attempts(port: int, instance: Instance) -> list[StartedAttempt]:
    """POST /api/v1/attempts for every candidate, then GET /api/v1/attempts/{id} for the
    option ids (one start per candidate: within the per-account start limit)."""
    started = []
    for candidate in instance.candidates:
        status, body = request(
            port,
            "POST",
            "/api/v1/attempts",
            body={"sitting_id": instance.sitting_id},
            headers=candidate.headers,
            timeout=30,
        )
        if status != 201:
            raise RuntimeError(f"POST /api/v1/attempts answered {status}: {body}")
        attempt_id = int(body["id"])
        status, body = request(
            port, "GET", f"/api/v1/attempts/{attempt_id}", headers=candidate.headers, timeout=30
        )
        if status != 200 or len(body.get("questions", [])) != 60:
            raise RuntimeError(f"GET /api/v1/attempts/{attempt_id} answered {status}: {body}")
        started.append(StartedAttempt(candidate, attempt_id, body["questions"]))
    return started


# --- serving -----------------------------------------------------------------


PROFILE_CONFIG = '''\
"""Written by bench/exam_common.py: profile each worker with cProfile, dump on exit."""
import cProfile
import time

def post_worker_init(worker):
    # CPU time, not wall time: the machine's cores are shared with the load generator,
    # and waiting for a core is not work the worker does.
    worker.bench_profile = cProfile.Profile(time.process_time)
    worker.bench_profile.enable()

def worker_exit(server, worker):
    profile = getattr(worker, "bench_profile", None)
    if profile is not None:
        profile.disable()
        profile.dump_stats("{directory}/worker-%d.prof" % worker.pid)
'''


def profile_config(directory: Path) -> Path:
    """A gunicorn config file that leaves one ``worker-PID.prof`` per worker in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gunicorn_profile.py"
    path.write_text(PROFILE_CONFIG.replace("{directory}", str(directory)))
    return path


def summarise_profiles(directory: Path, top: int = 15) -> str:
    """Own-time and cumulative-time leaders over every worker's profile, as text."""
    import io
    import pstats

    files = sorted(str(p) for p in directory.glob("worker-*.prof"))
    if not files:
        return "(no profile was written)"
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top + 25)
    return out.getvalue()


# --- wrk with a Lua script ---------------------------------------------------

LUA = r"""
-- Written by bench/exam_common.py. Each wrk thread takes a contiguous slice of the
-- request list (one request a line: METHOD TAB PATH TAB AUTHORIZATION TAB BODY) and
-- goes round it; done() prints latency percentiles and per-thread counts.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

sent, s2, s3, s4, s5 = 0, 0, 0, 0, 0
local requests = {}

function init(args)
  local path_of_list, nthreads = args[1], tonumber(args[2])
  local lines = {}
  for line in io.lines(path_of_list) do
    lines[#lines + 1] = line
  end
  local lo = math.floor(tid * #lines / nthreads) + 1
  local hi = math.floor((tid + 1) * #lines / nthreads)
  if hi < lo then -- fewer requests than threads: share one
    lo = (tid % #lines) + 1
    hi = lo
  end
  first, share = lo - 1, hi - lo + 1
  for i = lo, hi do
    local method, path, auth, body = lines[i]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Host"] = wrk.host .. ":" .. wrk.port }
    if auth ~= "" then headers["Authorization"] = auth end
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  local r = requests[(sent % #requests) + 1]
  sent = sent + 1
  return r
end

function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status >= 400 then s4 = s4 + 1
  elseif status >= 300 then s3 = s3 + 1
  else s2 = s2 + 1 end
end

function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("BENCH latency %d %d\n", p, latency:percentile(p)))
  end
  for _, t in ipairs(threads) do
    io.write(string.format("BENCH thread %d %d %d %d %d %d %d %d\n", t:get("tid"),
      t:get("first"), t:get("share"), t:get("sent"),
      t:get("s2"), t:get("s3"), t:get("s4"), t:get("s5")))
  end
end
"""


@dataclass(frozen=True)
class PlannedRequest:
    method: str
    path: str
    authorization: str = ""
    body: str = ""


@dataclass(frozen=True)
class ThreadCount:
    first: int  # index of the thread's first request in the list
    share: int  # how many requests of the list are the thread's
    sent: int  # requests the thread issued (it goes round its share)
    status: dict[str, int]

    def indices_sent(self) -> range:
        return range(self.first, self.first + min(self.sent, self.share))


@dataclass(frozen=True)
class ScriptResult:
    result: Result
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    threads: list[ThreadCount]

    @property
    def status(self) -> dict[str, int]:
        total = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
        for thread in self.threads:
            for kind, n in thread.status.items():
                total[kind] += n
        return total

    def describe_errors(self) -> str:
        status = self.status
        parts = [f"{status[k]} {k}" for k in ("3xx", "4xx", "5xx") if status[k]]
        parts += [f"{n} {kind}" for kind, n in self.result.socket_errors.items() if n]
        return ", ".join(parts) if parts else "0"

    @property
    def error_count(self) -> int:
        status = self.status
        return (
            status["3xx"] + status["4xx"] + status["5xx"] + sum(self.result.socket_errors.values())
        )


_BENCH_LATENCY = re.compile(r"^BENCH latency (\d+) (\d+)$", re.MULTILINE)
_BENCH_THREAD = re.compile(r"^BENCH thread " + " ".join([r"(\d+)"] * 8) + "$", re.MULTILINE)


def write_request_list(path: Path, planned: Sequence[PlannedRequest]) -> Path:
    for item in planned:
        if any(
            "\t" in v or "\n" in v for v in (item.method, item.path, item.authorization, item.body)
        ):
            raise ValueError(f"tab or newline in a planned request: {item}")
    path.write_text(
        "".join(f"{r.method}\t{r.path}\t{r.authorization}\t{r.body}\n" for r in planned)
    )
    return path


def wrk_script(
    base_url: str,
    request_list: Path,
    *,
    duration: int,
    connections: int,
    threads: int,
    script_dir: Path,
) -> ScriptResult:
    """Run wrk with the round-robin Lua script over ``request_list`` (see ``LUA``)."""
    if not base_url.startswith(f"http://{HOST}:"):
        raise ValueError(f"benchmarks only target {HOST}: {base_url}")
    script = script_dir / "round_robin.lua"
    script.write_text(LUA)
    command = [
        WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
        "-s", str(script), base_url, "--", str(request_list), str(threads),
    ]  # fmt: skip
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    output = completed.stdout
    latency = {int(p): int(us) / 1000 for p, us in _BENCH_LATENCY.findall(output)}
    counts = sorted(
        (tuple(int(v) for v in m) for m in _BENCH_THREAD.findall(output)), key=lambda t: t[0]
    )
    if set(latency) != {50, 90, 95, 99} or len(counts) != threads:
        raise ValueError(f"unexpected wrk output:\n{output}\n{completed.stderr}")
    return ScriptResult(
        result=parse_wrk(output),
        p50_ms=latency[50],
        p90_ms=latency[90],
        p95_ms=latency[95],
        p99_ms=latency[99],
        threads=[
            ThreadCount(c[1], c[2], c[3], {"2xx": c[4], "3xx": c[5], "4xx": c[6], "5xx": c[7]})
            for c in counts
        ],
    )


# --- a keep-alive client for Python load -------------------------------------


class Client:
    """One HTTP/1.1 connection to 127.0.0.1 that reopens itself (gunicorn's sync
    workers close after every response); raises ``OSError``/``HTTPException`` on failure."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port, self.timeout = port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def call(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        all_headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=all_headers)
            response = self.connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def log_problems(log_path: Path) -> list[str]:
    """Lines of a gunicorn log that show a crash, a traceback or a worker timeout."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    markers = ("Traceback", "Exception", "Error", "WORKER TIMEOUT", "CRITICAL")
    return [line for line in lines if any(m in line for m in markers)]


def profile_breakdown(
    directory: Path, parts: Sequence[tuple[str, str, str]], per: tuple[str, str]
) -> str:
    """A Markdown table of CPU per request in chosen functions (cumulative, callees
    included), over every worker's profile. ``parts`` are (label, file name, function);
    ``per`` is the (file name, function) called once per request."""
    import pstats

    files = sorted(str(p) for p in directory.glob("worker-*.prof"))
    if not files:
        return "(no profile was written)"
    stats = pstats.Stats(*files)
    stats.strip_dirs()
    table: dict[tuple[str, str], tuple[int, float]] = {}
    total = 0.0
    for (filename, _line, function), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += own
        calls_so_far, cumulative_so_far = table.get((filename, function), (0, 0.0))
        table[(filename, function)] = (calls_so_far + calls, cumulative_so_far + cumulative)
    requests = table.get(per, (0, 0.0))[0]
    if not requests:
        return "(the profile holds no request)"
    lines = [
        f"| part (cProfile CPU time, {requests:,} requests) | ms per request | share of worker CPU |",
        "|---|---:|---:|",
    ]
    for label, filename, function in parts:
        if (filename, function) not in table:
            continue
        cumulative = table[(filename, function)][1]
        if cumulative / total < 0.005:  # a function of that name that is not on this path
            continue
        lines.append(f"| {label} | {cumulative / requests * 1000:.2f} | {cumulative / total:.0%} |")
    return "\n".join(lines)


# --- other processes on the machine ------------------------------------------


class ForeignCpu:
    """CPU time used by processes that are not this one or its descendants (other
    people's tests, say) between ``start()`` and ``stop()``: the benchmark shares the
    machine's cores with them. Processes that start and end unseen inside the window
    are counted through the parent that reaps them. An estimate, good enough to tell a
    quiet machine from a busy one."""

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK")
        self.before: dict[tuple[int, int], int] = {}
        self.started = 0.0

    @staticmethod
    def _table() -> dict[int, tuple[int, int, int]]:
        """pid -> (parent pid, start time, CPU ticks including reaped children)."""
        rows = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            cpu = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            rows[int(stat.parent.name)] = (int(fields[1]), int(fields[19]), cpu)
        return rows

    def _foreign(self) -> dict[tuple[int, int], int]:
        rows = self._table()
        me = os.getpid()

        def ours(pid: int) -> bool:
            seen = 0
            while pid > 1 and seen < 64:
                if pid == me:
                    return True
                pid, seen = rows.get(pid, (0, 0, 0))[0], seen + 1
            return False

        return {(pid, start): cpu for pid, (_, start, cpu) in rows.items() if not ours(pid)}

    def start(self) -> None:
        self.before = self._foreign()
        self.started = time.monotonic()

    def stop(self) -> float:
        """Cores' worth of CPU the other processes used since ``start()``."""
        after = self._foreign()
        ticks = sum(cpu - self.before.get(key, 0) for key, cpu in after.items())
        # A process that ended was reaped by its parent, whose children's time now holds
        # all of the ended process's CPU, from before the window too: take that part off.
        ticks -= sum(cpu for key, cpu in self.before.items() if key not in after)
        elapsed = time.monotonic() - self.started
        return max(0.0, ticks / self.tick / elapsed) if elapsed > 0 else 0.0


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids`` (gone ones count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def wait_for_quiet(max_wait_s: float, threshold: float = 0.15, probe_s: float = 2.0) -> float:
    """Wait (at most ``max_wait_s``) until other processes use under ``threshold`` cores
    over a ``probe_s`` probe; returns the last probe's figure (measure anyway if never)."""
    deadline = time.monotonic() + max_wait_s
    while True:
        meter = ForeignCpu()
        meter.start()
        time.sleep(probe_s)
        cores = meter.stop()
        if cores < threshold or time.monotonic() + probe_s > deadline:
            if cores >= threshold:
                print(
                    f"the machine is not quiet (other processes use {cores:.2f} cores); "
                    "measuring anyway",
                    file=sys.stderr,
                    flush=True,
                )
            return cores
