"""`make cluster` as an operator runs it: it prints the URL, the URL answers, the Celery workers
and beat come up, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cluster.conftest import cluster_env, needs_cluster
from tests.servers import ROOT, free_port, port_open

pytestmark = [pytest.mark.django_db(transaction=True), needs_cluster]


def test_make_cluster_serves_the_url_it_prints_and_ctrl_c_stops_everything() -> None:
    port = free_port()
    var = Path(tempfile.mkdtemp(prefix="test-make-cluster-", dir=ROOT / "var"))
    var.chmod(0o755)
    make = subprocess.Popen(
        # -o: the venv is installed already (what `make cluster` would otherwise check first)
        ["make", "-o", ".venv/.runtime", "cluster", "N=1", f"CLUSTER_PORT={port}", f"CLUSTER_ARGS=--var {var}"],
        cwd=ROOT,
        env={**os.environ, **cluster_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        text=True,
    )
    printed: list[str] = []
    daphne_ports: list[int] = []
    try:
        assert make.stdout is not None
        deadline = time.monotonic() + 120
        for line in make.stdout:
            printed.append(line)
            if line.startswith("Serving on"):
                break
            assert time.monotonic() < deadline, "".join(printed)
        assert printed[-1].startswith(f"Serving on http://127.0.0.1:{port}/"), "".join(printed)

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert b"<html" in response.read().lower()
        daphne_ports += [int(line.split(":")[-1].split()[0]) for line in printed if "daphne-0 on" in line]
        assert daphne_ports
        assert port_open(daphne_ports[0])
        logs = var / "logs"
        for worker in ("celery", "webhooks"):
            wait_for(lambda w=worker: " ready." in (logs / f"celery-{w}.log").read_text(), f"the {worker} worker")
        wait_for(lambda: "beat: Starting" in (logs / "celery-beat.log").read_text(), "beat")
    finally:
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        rest = make.communicate(timeout=60)[0]
    assert "Stopping" in rest
    assert not port_open(port)
    assert not any(port_open(p) for p in daphne_ports)
    nginx_pid = var / "nginx" / "nginx.pid"
    assert not nginx_pid.exists()  # nginx removes it as it exits


def wait_for(ready: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():  # type: ignore[operator]
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.5)
