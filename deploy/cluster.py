"""Start a liverooms cluster on this machine: nginx in front of N daphne processes, a Celery
worker per queue and beat, on the local PostgreSQL and Redis. `make cluster N=2` runs it:

    .venv/bin/python -m deploy.cluster --processes 2 [--port 8080] [--no-celery]

It starts PostgreSQL and Redis when they are installed but stopped (as .ci/run does), creates the
database if it is missing, migrates, collects static files, writes nginx's configuration under
`var/cluster/` (pid, temp files, logs: no root paths), starts everything, waits until each process
answers `/healthz`, prints the URL and, on Ctrl-C (or SIGTERM), stops everything it started.
Tests start the same cluster with `running(...)` (tests/cluster/).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from deploy.nginx import Layout, render

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/liverooms"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CELERY_QUEUES = ("celery", "webhooks")  # liverooms/celery.py's routes
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    port: int | None = None

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own argv
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the process group, then SIGKILL if it lingers."""
        proc = self.popen
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class Cluster:
    port: int
    var: Path
    daphnes: list[Process] = field(default_factory=list)
    others: list[Process] = field(default_factory=list)  # nginx, celery workers, beat

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def processes(self) -> list[Process]:
        return [*self.daphnes, *self.others]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


# --- services -------------------------------------------------------------------------------


def _answers(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def ensure_postgres(url: str) -> None:
    """Start the local PostgreSQL when it is installed but stopped, then create the database."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if (
        host in LOOPBACK
        and not _answers(host, port)
        and shutil.which("pg_ctlcluster")
        and Path("/etc/postgresql").is_dir()
    ):
        version = sorted(os.listdir("/etc/postgresql"))[0]
        print(f"== starting PostgreSQL {version}", flush=True)
        start = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
        subprocess.run(start, check=False)  # noqa: S603 - Debian's tool, as .ci/run runs it
    _wait(lambda: _answers(host, port), f"PostgreSQL at {host}:{port}")
    _create_database(url)


def _create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_redis(url: str) -> None:
    """Start a local Redis when it is installed but stopped (as .ci/run does)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if host in LOOPBACK and not _answers(host, port) and shutil.which("redis-server"):
        print("== starting Redis", flush=True)
        subprocess.run(  # noqa: S603 - Debian's redis-server, as .ci/run runs it
            [  # noqa: S607
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
        )
    _wait(lambda: _answers(host, port), f"Redis at {host}:{port}")


def _wait(ready: object, what: str, timeout: float = 60.0, *, processes: list[Process] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        for process in processes or []:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} is not answering after {timeout:.0f} s")
        time.sleep(0.2)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# --- the cluster ----------------------------------------------------------------------------


def base_env(var: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every process: the caller's, with cluster defaults filled in."""
    env = dict(os.environ)
    env.update(extra or {})
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    env.setdefault("DEBUG", "0")
    if not env.get("SECRET_KEY"):
        key_file = var / "secret-key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
    # Plain HTTP on loopback; put TLS in front (docs/deploy.md) and drop these two in production.
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    env.setdefault("SECURE_HSTS_SECONDS", "0")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("CSRF_TRUSTED_ORIGINS", f"http://127.0.0.1:{port},http://localhost:{port}")
    env.setdefault("BEHIND_PROXY", "1")
    env.setdefault("STATIC_ROOT", str(var / "static"))
    env.setdefault("LIVEROOMS_VAR_DIR", str(var / "app"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def prepare(env: dict[str, str], logs: Path, *, migrate: bool = True) -> None:
    """Start the services the URLs name (when local), migrate, collect static files."""
    ensure_postgres(env["DATABASE_URL"])
    ensure_redis(env["REDIS_URL"])
    static_env = {**env, "DJANGO_SETTINGS_MODULE": "deploy.static_settings"}  # writes the manifest
    steps = [(["migrate", "--noinput"], env)] if migrate else []
    steps.append((["collectstatic", "--noinput"], static_env))
    for step, step_env in steps:
        with (logs / "manage.log").open("ab") as out:
            done = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=step_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(step)} failed: see {logs / 'manage.log'}")


@contextlib.contextmanager
def running(
    *,
    processes: int = 2,
    port: int | None = None,
    var: Path | None = None,
    env: dict[str, str] | None = None,
    celery: bool = True,
    migrate: bool = True,
    access_log: bool = True,
) -> Iterator[Cluster]:
    """A cluster, up and healthy; everything it started is stopped on the way out."""
    if processes < 1:
        raise ValueError("a cluster needs at least one daphne process")
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    port = port or free_port()
    var = (var or ROOT / "var" / "cluster").resolve()
    logs = var / "logs"
    for folder in (logs, var / "nginx" / "temp", var / "app"):
        folder.mkdir(parents=True, exist_ok=True)
    common = base_env(var, port, env)
    prepare(common, logs, migrate=migrate)

    cluster = Cluster(port=port, var=var)
    for n in range(processes):
        daphne_port = free_port()
        process = Process(
            name=f"daphne-{n}",
            argv=[
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(daphne_port),
                "liverooms.asgi:application",
            ],
            env={},
            log=logs / f"daphne-{n}.log",
            port=daphne_port,
        )
        process.env = {**common, "LIVEROOMS_INTERNAL_URL": process.internal_url}
        cluster.daphnes.append(process)
    layout = Layout(
        listen=f"127.0.0.1:{port}",
        backends=[f"127.0.0.1:{p.port}" for p in cluster.daphnes],
        static_root=Path(common["STATIC_ROOT"]),
        prefix=var / "nginx",
        logs=logs,
        worker_processes="auto",  # one per core: each worker holds its own open-files limit of sockets
        access_log=access_log,
    )
    config = var / "nginx" / "nginx.conf"
    config.write_text(render(layout))
    nginx = Process(
        name="nginx",
        argv=[NGINX, "-p", str(var / "nginx"), "-e", str(logs / "nginx-error.log"), "-c", str(config)],
        env=common,
        log=logs / "nginx.log",
        port=port,
    )
    cluster.others.append(nginx)
    if celery:
        celery_bin = [sys.executable, "-m", "celery", "-A", "liverooms"]
        for queue in CELERY_QUEUES:
            cluster.others.append(
                Process(
                    name=f"celery-{queue}",
                    argv=[
                        *celery_bin,
                        "worker",
                        "-Q",
                        queue,
                        "-n",
                        f"{queue}@%h",
                        "--concurrency",
                        "2",
                        "--loglevel",
                        "INFO",
                    ],
                    env=common,
                    log=logs / f"celery-{queue}.log",
                )
            )
        cluster.others.append(
            Process(
                name="celery-beat",
                argv=[*celery_bin, "beat", "--loglevel", "INFO"],
                env=common,
                log=logs / "celery-beat.log",
            )
        )
    try:
        for process in cluster.processes:
            process.start()
        for process in cluster.daphnes:
            _wait(lambda p=process: healthy(p.internal_url), f"{process.name} /healthz", processes=cluster.processes)
        _wait(lambda: healthy(cluster.url), "nginx", processes=cluster.processes)
        yield cluster
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="nginx + N daphne + Celery on the local PostgreSQL and Redis.")
    parser.add_argument("--processes", "-n", type=int, default=int(os.environ.get("N", "2")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", "8080")))
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "cluster", help="config, logs, static files")
    parser.add_argument("--no-celery", action="store_true", help="no Celery worker or beat")
    args = parser.parse_args()

    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with running(processes=args.processes, port=args.port, var=args.var, celery=not args.no_celery) as cluster:
        for process in cluster.processes:
            where = f" on {process.internal_url}" if process.port and process.name != "nginx" else ""
            print(f"   {process.name}{where} (pid {process.popen.pid if process.popen else '?'}), log {process.log}")
        print(f"Serving on {cluster.url}/  (Ctrl-C stops nginx, {args.processes} daphne and Celery)", flush=True)
        while not stop["now"]:
            for process in cluster.processes:
                if not process.alive():
                    print(f"{process.name} exited; stopping the cluster:\n{process.tail()}", flush=True)
                    stop["now"] = True
            time.sleep(0.5)
        print("Stopping…", flush=True)


if __name__ == "__main__":
    main()
