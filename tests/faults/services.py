"""Our own Redis and PostgreSQL servers, on free ports, for tests that stop and restart them.

The machine's shared servers serve other people's work: a fault test never touches them. Each
helper skips its test, saying why, when the server's binaries are not installed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, port_open


def _pg_bin() -> Path:
    """PG_BIN, else Debian's newest installed PostgreSQL (/usr/lib/postgresql/<major>/bin)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    return found[-1] if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def _wait(check: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout} s")
        time.sleep(0.05)


class RedisServer:
    """`redis-server` without persistence on a port of its own: a restart forgets everything, as a
    Redis restarted without a snapshot (or failed over to an empty replica) does."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary is not None
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: port_open(self.port), f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash would: no goodbye to the clients
            self.process.wait()
            self.process = None
        _wait(lambda: not port_open(self.port), f"redis-server on {self.port} stopping")


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PostgresCluster:
    """A PostgreSQL cluster of our own (initdb into a temporary folder), run by the `postgres`
    user when we are root (initdb refuses root), listening on a free port and a socket folder."""

    def __init__(self, folder: Path) -> None:
        for tool in ("initdb", "postgres", "pg_ctl"):
            if not (PG_BIN / tool).exists():
                pytest.skip(f"PostgreSQL's {tool} is not installed in {PG_BIN} (apt-get install postgresql)")
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user to run initdb as")
            shutil.chown(folder, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/liverooms"

    def init(self) -> None:
        subprocess.run(
            [*self._as, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        self.start()
        subprocess.run(
            [
                *self._as,
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "liverooms",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        args = [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder)]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]
        self.process = subprocess.Popen(
            [*self._as, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait(self._accepts, f"postgres on {self.port}")

    def _accepts(self) -> bool:
        if not port_open(self.port):
            return False
        # the port opens before recovery ends; a startup packet answered means ready
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], capture_output=True
        )
        return done.returncode == 0

    def stop(self, mode: str = "immediate") -> None:
        """Stop it; `immediate` is a crash for the clients (every connection cut)."""
        if self.process is None:
            return
        subprocess.run(
            [*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], capture_output=True
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    with tempfile.TemporaryDirectory(prefix="liverooms-pg-") as folder:
        cluster = PostgresCluster(Path(folder))
        cluster.init()
        try:
            yield cluster
        finally:
            cluster.stop()
