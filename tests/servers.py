"""Start real server processes (daphne, celery) for tests, and always stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_of(settings_dict: dict) -> str:
    """A DATABASE_URL that points another process at the database this test uses."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or "5432"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], ready: Callable[[], bool] | None = None, timeout: float = 30
) -> Iterator[subprocess.Popen[bytes]]:
    name = "-".join(a for a in args[:3] if not a.startswith("-")) or "server"
    log = tempfile.NamedTemporaryFile(prefix=f"test-{name}-", suffix=".log", dir=ROOT / "var", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + timeout
        while ready is not None and not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{args} did not start:\n{log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Served:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def daphne(settings_dict: dict, **env: str) -> Iterator[Served]:
    """One daphne process serving liverooms on the test's database; `env` adds settings."""
    port = free_port()
    env = {"DATABASE_URL": database_url_of(settings_dict), "ALLOWED_HOSTS": "127.0.0.1", **env}
    args = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "liverooms.asgi:application"]
    with running(args, env=env, ready=lambda: port_open(port)) as process:
        yield Served(port, process)
