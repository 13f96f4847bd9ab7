"""A cluster for the tests here: nginx + 2 daphne (deploy/cluster.py) on the test's PostgreSQL
database and Redis, started once per module on free ports."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from deploy import cluster as launcher
from tests.servers import ROOT, database_url_of

METRICS_TOKEN = "a-test-metrics-token"

needs_cluster = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql" or not Path(launcher.NGINX).exists(),
    reason="needs DATABASE_URL (PostgreSQL), REDIS_URL and nginx",
)


def cluster_env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_of(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "METRICS_TOKEN": METRICS_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def cluster(django_db_setup: None) -> Iterator[launcher.Cluster]:
    (ROOT / "var").mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="test-cluster-", dir=ROOT / "var"))
    var.chmod(0o755)  # nginx's workers (www-data when started as root) read the static files here
    try:
        # pytest-django migrated the test database already
        with launcher.running(processes=2, var=var, env=cluster_env(), celery=False, migrate=False) as running:
            yield running
    finally:
        shutil.rmtree(var / "static", ignore_errors=True)  # the logs stay, for a failure's story
