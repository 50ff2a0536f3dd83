"""Rate limits under gunicorn with two workers: counted in a real Redis they hold exactly
across both; on in-memory storage the server warns at start, naming RATELIMIT_STORAGE_URI.

The test starts and stops its own redis-server on a free loopback port (Debian's
``redis-server``, installed by ``make system-deps``), and its own gunicorn.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.limits import unshared_limits_warning
from tests.conftest import rsa_test_key

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
REDIS = shutil.which("redis-server")
# A public lookup limited to "10 per minute" per address (certificates/api.py).
LIMITED = "/api/v1/certificates/CSM-0000-0000"
START_TIMEOUT_S = 120.0  # a loaded machine loads the app slowly

if REDIS is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("redis-server is missing: CI must run `make system-deps`")
    pytest.skip(
        "redis-server is not installed (apt-get install redis-server, or make system-deps)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, timeout: float = 60) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server; ready once it says so on its output (read, not polled)."""
    port = _free_port()
    command = [
        str(REDIS), "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no",
        "--dir", str(tmp_path), "--loglevel", "notice",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            output.append(line.decode(errors="replace"))
            if b"Ready to accept connections" in line:
                break
        else:
            pytest.fail("redis-server did not start:\n" + "".join(output))
        yield f"redis://{HOST}:{port}/0"
    finally:
        _stop(process)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def _gunicorn(database_url: str, tmp: Path, workers: int, storage: str) -> Iterator[int]:
    """The app under gunicorn from the project folder (so it reads gunicorn.conf.py), with
    an access log of which worker (pid) answered what. It listens on a socket made here,
    so a first request simply waits in the backlog until a worker is ready."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(64)
    listener.set_inheritable(True)
    port = int(listener.getsockname()[1])
    log, access = tmp / "gunicorn.log", tmp / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CSM_INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "shared-limits-test",
        "CERT_RSA_SIGNING_KEY": rsa_test_key(),
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_ENABLED": "1",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"fd://{listener.fileno()}",
        "--workers", str(workers), "--worker-class", "sync", "--graceful-timeout", "5",
        "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s",
        "wsgi:create_app()",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
            start_new_session=True,
        )
    listener.close()
    try:
        status, _ = _get(port, "/healthz", timeout=START_TIMEOUT_S)
        assert status == 200, log.read_text()[-3000:]
        yield port
    finally:
        _stop(process)


def _answering_workers(tmp: Path) -> set[str]:
    lines = (tmp / "access.log").read_text().split("\n")
    return {line.split()[0] for line in lines if line.strip()}


def test_a_limit_in_redis_holds_exactly_across_two_workers(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with _gunicorn(database_url, tmp_path, 2, redis_url) as port:
        # Warm both workers up (the first request of each loads the app).
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: _get(port, "/healthz"), range(8)))
        (tmp_path / "access.log").write_text("")
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda _: _get(port, LIMITED)[0], range(25)))
            # One sync worker may drain the whole burst: ask on until the other has
            # answered too; with a shared count it can only refuse.
            for _ in range(100):
                if len(_answering_workers(tmp_path)) == 2:
                    break
                answers += list(pool.map(lambda _: _get(port, LIMITED)[0], range(5)))
        served_by = _answering_workers(tmp_path)
    assert len(served_by) == 2, "both workers must have answered"
    statuses = Counter(answers)
    assert len(answers) - statuses[429] == 10, statuses
    assert "RATELIMIT_STORAGE_URI" not in (tmp_path / "gunicorn.log").read_text()


def test_two_workers_on_memory_storage_warn_at_start(database_url: str, tmp_path: Path) -> None:
    with _gunicorn(database_url, tmp_path, 2, "memory://"):
        pass
    log = (tmp_path / "gunicorn.log").read_text()
    assert "RATELIMIT_STORAGE_URI=memory://" in log and "2 workers" in log


def test_the_warning_is_only_for_several_workers_on_memory() -> None:
    assert unshared_limits_warning(1, "memory://") is None
    assert unshared_limits_warning(4, "redis://127.0.0.1:6379") is None
    assert "4 workers" in (unshared_limits_warning(4, "memory://") or "")
