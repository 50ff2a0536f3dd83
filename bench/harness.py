"""Building blocks for benchmarks: serve a WSGI app under gunicorn, drive it with wrk, tabulate.

Everything listens on and talks to 127.0.0.1 only; every child process runs in
its own process group so that stopping it also stops its workers.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
HOST = "127.0.0.1"
WRK = "wrk"

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 2
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


# --- serving -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (gunicorn arbiter and workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_ready(process: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            status, _ = request(port, "GET", path, timeout=1.0)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"no 200 from {path} after {START_TIMEOUT_S:.0f} s:\n{_log_tail(log)}")


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the arbiter's children."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)


@contextmanager
def gunicorn(
    env: Mapping[str, str],
    *,
    log_path: Path,
    port: int | None = None,
    workers: int = DEFAULT_WORKERS,
    app_spec: str = "wsgi:create_app()",
    chdir: Path = REPO_ROOT,
    ready_path: str = "/healthz",
    config_file: Path | None = None,
) -> Iterator[Server]:
    """Serve ``app_spec`` under gunicorn (sync workers, its own process group, always
    stopped on exit). ``port`` keeps an address across a restart; ``config_file`` adds a
    gunicorn config (profiling); the process is yielded so its workers can be found."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--chdir", str(chdir),
        "--log-level", "warning",
        "--graceful-timeout", "5",
    ]  # fmt: skip
    if config_file is not None:
        command += ["--config", str(config_file)]
    command.append(app_spec)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, port, ready_path, log_path)
        yield Server(process, port)
    finally:
        _stop_group(process)


@contextmanager
def reference_and_app(
    app_env: Mapping[str, str], directory: Path, workers: int = DEFAULT_WORKERS
) -> Iterator[tuple[Server, Server]]:
    """The bare reference route and the app, side by side under the same gunicorn settings."""
    with (
        gunicorn(
            {},
            log_path=directory / "reference.log",
            app_spec="reference_app:app",
            chdir=BENCH_DIR,
            ready_path="/ping",
            workers=workers,
        ) as reference,
        gunicorn(app_env, log_path=directory / "app.log", workers=workers) as app,
    ):
        yield reference, app


@contextmanager
def serve_with_reference(
    app_env: Mapping[str, str], directory: Path, workers: int = DEFAULT_WORKERS
) -> Iterator[dict[str, str]]:
    """As ``reference_and_app``, yielding ``{"reference": url, "app": url}``."""
    with reference_and_app(app_env, directory, workers) as (reference, app):
        yield {"reference": reference.url, "app": app.url}


def stop_on_sigterm() -> None:
    """Turn SIGTERM into an exception, so that every ``finally`` stops its servers."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One request to 127.0.0.1:``port``; returns the status and the decoded JSON body (or text)."""
    all_headers = dict(headers or {})
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        raw = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


# --- measuring ---------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]

    @property
    def error_count(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def describe_errors(self) -> str:
        parts = [f"{self.non_2xx} non-2xx/3xx"] if self.non_2xx else []
        parts += [f"{n} {kind}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts) if parts else "0"


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_RE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS_RE = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> Result:
    """Parse ``wrk --latency`` output; raise if a figure we rely on is missing."""
    rps = _RPS_RE.search(output)
    total = _REQUESTS_RE.search(output)
    latencies = {m[1]: float(m[2]) * _UNIT_MS[m[3]] for m in _LATENCY_RE.finditer(output)}
    if rps is None or total is None or not {"50", "99"} <= latencies.keys():
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = _NON_2XX_RE.search(output)
    sockets = _SOCKET_RE.search(output)
    kinds = ("connect", "read", "write", "timeout")
    return Result(
        requests_per_s=float(rps[1]),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors={k: int(v) for k, v in zip(kinds, sockets.groups(), strict=True)}
        if sockets
        else {},
    )


def wrk(
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    duration: int,
    connections: int,
    threads: int = DEFAULT_THREADS,
) -> Result:
    """Run wrk against ``url`` (loopback only) and parse its report."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"benchmarks only target {HOST}: {url}")
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_wrk(completed.stdout)


# --- reporting ---------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    target: str
    result: Result
    reference: Result

    @property
    def ratio(self) -> float:
        return self.result.requests_per_s / self.reference.requests_per_s


def format_table(rows: list[Row]) -> str:
    lines = [
        "| target | requests/s | p50 ms | p99 ms | ratio to reference | errors |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        r = row.result
        errors = r.describe_errors()
        if r.error_count:
            errors = f"**{errors}**"
        lines.append(
            f"| {row.target} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {row.ratio:.2f} | {errors} |"
        )
    return "\n".join(lines)


_GIT_OPTIONS: dict[str, Any] = {
    "cwd": REPO_ROOT,
    "capture_output": True,
    "text": True,
    "timeout": 10,
    "check": True,
}


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], **_GIT_OPTIONS
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], **_GIT_OPTIONS
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def context_line(
    *, workers: int, duration: int, connections: int, threads: int, load_at_start: float
) -> str:
    """When, where and how; the load average tells whether something else shared the cores."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now} · {os.cpu_count()} cores (load average {load_at_start:.2f} at start) · "
        f"gunicorn {workers} sync workers · "
        f"wrk -t{threads} -c{connections} -d{duration}s on the same machine · "
        f"Python {sys.version.split()[0]} · commit {git_revision()}"
    )


def print_table(rows: list[Row], context: str, out_path: Path | None = None) -> str:
    """Print the table (and write it to ``out_path``); returns the Markdown text."""
    text = f"{format_table(rows)}\n\n{context}\n"
    failing = [row.target for row in rows if row.result.error_count]
    if failing:
        text += f"\n**Errors during the run** ({', '.join(failing)}): figures are not valid.\n"
    print(text, end="")
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text)
    return text
