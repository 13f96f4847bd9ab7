"""Process helpers shared by the benchmarks (each server runs in its own process group)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from pathlib import Path

BENCH = Path(__file__).resolve().parent


# The server's per-client limits, raised: a benchmark's load is one client address (loopback)
# with thousands of sockets and a host posting as fast as asked (README: "Configuration").
UNLIMITED = dict.fromkeys(
    (
        "ROOM_SOCKETS_PER_ADDRESS",
        "ROOM_SOCKETS_PER_PROCESS",
        "VIEWERS_COUNTED_PER_ADDRESS",
        "SOCKET_FRAME_BURST",
        "REACTION_BURST",
        "ACTION_BURST",
        "STAGE_ACTION_BURST",
        "STAGE_ACTIONS_PER_MINUTE",
        "COMMENT_HOST_BURST",
        "COMMENT_HOST_RATE_PER_MINUTE",
        "MEDIA_OFFER_BURST",
        "MEDIA_PEERS_PER_ROOM",
        "MEDIA_MAX_PEERS",
        "MEDIA_MAX_PENDING_PEERS",
    ),
    "1000000",
)


def server_env(tmp: Path, *, debug: bool, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's server: this machine's, without any project setting that
    could leak in (database, Redis, Celery), plus a throwaway SQLite database in `tmp`."""
    drop = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "PYTHONPATH")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(
        PYTHONPATH=str(BENCH),  # the reference apps (the liverooms package comes from the cwd)
        DJANGO_SETTINGS_MODULE="liverooms.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        DEBUG="1" if debug else "0",
        SECRET_KEY=secrets.token_urlsafe(40),
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LIVEROOMS_VAR_DIR=str(tmp / "var"),
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **UNLIMITED,
    )
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """End a process a benchmark started (its own process group), politely, then for sure."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(log: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""
