"""PostgreSQL restarts under a live room: actions answer `internal` while it is down, then work
again, and nothing acknowledged is lost.

Our own cluster (initdb into a temporary folder, on a free port), one daphne process on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.faults.services import PostgresCluster, postgres_cluster
from tests.faults.tabs import open_tab
from tests.servers import ROOT, free_port, port_open, running

SETUP = """
import json, django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
from rooms import actions
alice = User.objects.create_user(username="alice", password="a-long-test-password")
room = actions.create_room(host=alice, title="Alice live")
client = Client()
client.force_login(alice)
print(json.dumps({"slug": room.slug, "cookie": client.cookies["sessionid"].value}))
"""


def env_for(cluster: PostgresCluster) -> dict[str, str]:
    # no Redis: one process, in-memory layer and cache (this test is about the database)
    return {"DATABASE_URL": cluster.url, "REDIS_URL": "", "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1"}


def manage(cluster: PostgresCluster, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env_for(cluster)},
        capture_output=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout.decode()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        manage(cluster, "manage.py", "migrate", "--no-input", "-v", "0")
        yield cluster


def stored_comments(cluster: PostgresCluster) -> list[str]:
    out = manage(
        cluster,
        "manage.py",
        "shell",
        "-c",
        "import json; from comments.models import Comment; "
        "print(json.dumps(list(Comment.objects.order_by('pk').values_list('text', flat=True))))",
    )
    return list(json.loads(out.strip().splitlines()[-1]))


async def test_it_answers_internal_while_postgres_is_down_then_works_again(cluster: PostgresCluster) -> None:
    made = json.loads(manage(cluster, "-c", SETUP).strip().splitlines()[-1])
    port = free_port()
    args = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "liverooms.asgi:application"]
    with running(args, env=env_for(cluster), ready=lambda: port_open(port)):
        host = await open_tab(port, made["slug"], made["cookie"], wait=20)
        viewer = await open_tab(port, made["slug"], wait=20)
        try:
            acked = []
            assert (await host.post("before"))["type"] == "ack"
            acked.append("before")

            cluster.stop()  # immediate: every connection cut, as a crash
            down_at = time.monotonic()
            answer = await host.post("while down")
            assert answer["type"] == "error", answer
            assert answer["code"] == "internal"
            assert answer["ref"] == "while down"
            answered_in = time.monotonic() - down_at
            # the socket stays open and keeps answering
            answer = await host.post("still down")
            assert (answer["type"], answer["code"]) == ("error", "internal")

            cluster.start()
            back_at = time.monotonic()
            for attempt in range(100):
                answer = await host.post(f"after {attempt}")
                if answer["type"] == "ack":
                    acked.append(f"after {attempt}")
                    break
                assert answer["code"] == "internal", answer
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("actions never worked again")
            recovered_in = time.monotonic() - back_at
            assert (await host.post("later"))["type"] == "ack"
            acked.append("later")
            print(
                f"while down: `internal` in {answered_in:.1f} s; "
                f"after the restart: working again in {recovered_in:.1f} s"
            )

            # every acknowledged comment is stored, and reached the viewer, in order, once
            while not any(f["type"] == "comment.created" and f["comment"]["text"] == "later" for f in viewer.frames):
                await viewer.next("comment.created")
            assert [f["comment"]["text"] for f in viewer.frames if f["type"] == "comment.created"] == acked
            seqs = [f["seq"] for f in viewer.frames if f["type"] == "comment.created"]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert await asyncio.to_thread(stored_comments, cluster) == acked
        finally:
            await host.socket.close()
            await viewer.socket.close()
