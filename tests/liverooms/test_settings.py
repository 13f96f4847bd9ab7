"""A bad configuration stops the process at start-up, naming the variable to fix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from liverooms.env import database_from_url, env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the real settings in a fresh interpreter with exactly this environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://db/liverooms"}, "DATABASE_URL"),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://db:port/liverooms"}, "DATABASE_URL"),
        ({"DEBUG": "1", "REDIS_URL": "http://cache:6379"}, "REDIS_URL"),
        ({"DEBUG": "1", "ROOM_ABANDONED_AFTER": "soon"}, "ROOM_ABANDONED_AFTER"),
        ({"DEBUG": "1", "ROOM_SWEEP_INTERVAL": "0"}, "ROOM_SWEEP_INTERVAL"),
        ({"DEBUG": "1", "WEBHOOK_RETRY_BASE": "soon"}, "WEBHOOK_RETRY_BASE"),
        ({"DEBUG": "1", "WEBHOOK_RETRY_MAX": "nan"}, "WEBHOOK_RETRY_MAX"),
        ({"DEBUG": "1", "WEBHOOK_TIMEOUT": "0"}, "WEBHOOK_TIMEOUT"),
        ({"DEBUG": "1", "REDIS_URL": "redis://cache:6379/0", "CELERY_VISIBILITY_TIMEOUT": "1"}, "CELERY_VISIBILITY"),
        ({"DEBUG": "1", "WEBSOCKET_MAX_QUEUED_BYTES": "100"}, "WEBSOCKET_MAX_QUEUED_BYTES"),
    ],
)
def test_it_refuses_to_start_with_a_bad_value(env: dict[str, str], named: str) -> None:
    started = start_django(**env)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert named in started.stderr.splitlines()[-1]


def test_production_settings_pass_the_deploy_check() -> None:
    started = start_django(
        DEBUG="0",
        SECRET_KEY="k3y-" + "x9Q!z" * 12,
        ALLOWED_HOSTS="live.example.com",
        DATABASE_URL="postgres://liverooms:secret@db.example.com:5432/liverooms",
        REDIS_URL="redis://cache.example.com:6379/0",
    )
    assert started.returncode == 0, started.stderr
    assert "no issues" in started.stdout


def test_it_reads_a_postgres_url() -> None:
    db = database_from_url("DATABASE_URL", "postgres://u%40x:p%2Fw@db:6543/live?sslmode=require", sqlite_default=Path())
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == ("u@x", "p/w", "db", "6543", "live")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_defaults_to_sqlite_that_survives_write_bursts(tmp_path: Path) -> None:
    db = database_from_url("DATABASE_URL", "", sqlite_default=tmp_path / "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_it_reads_booleans_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "Yes")
    monkeypatch.setenv("X_NUM", "-3")
    assert env_bool("X_FLAG", False) is True
    assert env_bool("X_UNSET", True) is True
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 1, minimum=0)
