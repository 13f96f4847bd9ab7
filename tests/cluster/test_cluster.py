"""The cluster people run past one process: nginx in front of two daphne processes
(deploy/cluster.py) on PostgreSQL + Redis. Viewers through the balancer land on both processes,
every comment reaches all of them, each process's /metrics (reached through nginx) counts its own
viewers and the counts add up, and /healthz tells a balancer which process can serve."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from conftest import make_user
from deploy.cluster import Cluster, Process
from rooms.models import Room
from tests.cluster.conftest import METRICS_TOKEN, needs_cluster
from tests.servers import free_port, port_open
from tests.sockets import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), needs_cluster]

VIEWERS = 6
COMMENTS = 10
PROCESS = "X-Liverooms-Process"


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when the series is absent)."""
    want = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


class Tab:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.process = socket.response.headers[PROCESS]

    async def next(self, *types: str) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 15))
            if frame["type"] in types:
                return frame


async def open_tab(cluster: Cluster, slug: str, cookie: str) -> Tab:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{cluster.port}/ws/rooms/{slug}/",
        origin=cluster.url,
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )
    tab = Tab(socket)
    await tab.next("room.state")
    return tab


def viewers_with_sessions(count: int) -> list[str]:
    return [session_cookie(make_user(f"viewer{n}")) for n in range(count)]


async def test_it_spreads_viewers_over_both_processes_and_delivers_every_comment(
    cluster: Cluster, room: Room, alice: User
) -> None:
    host_cookie = await database_sync_to_async(session_cookie)(alice)
    cookies = await database_sync_to_async(viewers_with_sessions)(VIEWERS)
    host = await open_tab(cluster, room.slug, host_cookie)
    viewers = [await open_tab(cluster, room.slug, cookie) for cookie in cookies]
    try:
        # least_conn over two processes: the sockets split evenly (the host's included)
        assert sorted(Counter(tab.process for tab in [host, *viewers]).values()) == [3, 4]

        for n in range(COMMENTS):
            await host.socket.send(json.dumps({"type": "comment.post", "text": f"comment {n}", "ref": f"c{n}"}))
            answer = await host.next("ack", "error")
            assert answer["type"] == "ack", answer
        for tab in viewers:
            got = [(await tab.next("comment.created"))["comment"]["text"] for _ in range(COMMENTS)]
            assert got == [f"comment {n}" for n in range(COMMENTS)], f"on process {tab.process}"

        # each process, reached through nginx, counts the viewers it holds; together, all of them
        per_process = {}
        for n in ("0", "1"):
            status, headers, text = await asyncio.to_thread(get, f"{cluster.url}/metrics/{n}")
            assert status == 200
            assert headers[PROCESS] == n
            assert metric(text, "liverooms_process", internal_url=cluster.daphnes[int(n)].internal_url) == 1
            per_process[n] = metric(text, "liverooms_room_viewers", room=str(room.pk))
            sockets_here = sum(1 for tab in [host, *viewers] if tab.process == n)
            assert metric(text, "liverooms_sockets") == sockets_here
            # every comment was written to every socket of the room here
            assert metric(text, "liverooms_deliveries_total") >= COMMENTS * sockets_here
            assert metric(text, "liverooms_delivery_latency_seconds_count") >= COMMENTS
        # the host is on stage: not a viewer
        assert per_process == {n: sum(1 for tab in viewers if tab.process == n) for n in ("0", "1")}
        assert sum(per_process.values()) == VIEWERS
    finally:
        for tab in [host, *viewers]:
            await tab.socket.close()


def test_whip_for_a_room_always_reaches_one_process_and_whep_any(cluster: Cluster) -> None:
    origins: dict[str, set[str]] = {}
    for n in range(12):
        slug = f"room-{n}"
        for path in (f"/rooms/{slug}/whip", f"/rooms/{slug}/whip/token", f"/rooms/{slug}/whip/some-session"):
            _, headers, _ = get(f"{cluster.url}{path}", method="POST" if path.endswith("whip") else "DELETE")
            origins.setdefault(slug, set()).add(headers[PROCESS])
    assert all(len(processes) == 1 for processes in origins.values()), origins
    assert set().union(*origins.values()) == {"0", "1"}  # rooms spread over the processes

    whep = {get(f"{cluster.url}/rooms/room-0/whep", method="POST")[1][PROCESS] for _ in range(6)}
    assert whep == {"0", "1"}


def test_metrics_are_refused_to_the_public_without_the_token(cluster: Cluster) -> None:
    direct = cluster.daphnes[0].internal_url
    public = {"X-Forwarded-For": "8.8.8.8"}  # what our proxy writes for a client on the internet
    assert get(f"{direct}/metrics", public)[0] == 403
    assert get(f"{direct}/metrics", {**public, "Authorization": "Bearer wrong"})[0] == 403
    status, _, text = get(f"{direct}/metrics", {**public, "Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200
    assert "liverooms_sockets" in text


def test_healthz_answers_ok_for_each_process_whatever_the_host(cluster: Cluster) -> None:
    for n in range(2):
        assert get(f"{cluster.url}/healthz/{n}")[::2] == (200, "ok\n")
    # a balancer asks by address: no ALLOWED_HOSTS check, no redirect
    assert get(f"{cluster.daphnes[1].internal_url}/healthz", {"Host": "10.1.2.3:8000"})[::2] == (200, "ok\n")


def test_healthz_is_503_for_a_process_that_cannot_reach_redis(cluster: Cluster, tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    port = free_port()
    process = Process(
        name="daphne-without-redis",
        argv=[sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "liverooms.asgi:application"],
        env={**cluster.daphnes[0].env, "REDIS_URL": nowhere},
        log=tmp_path / "daphne.log",
        port=port,
    )
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not port_open(port):
            assert process.alive(), process.tail()
            assert time.monotonic() < deadline, process.tail()
            time.sleep(0.1)
        status, _, body = get(f"{process.internal_url}/healthz")
    finally:
        process.stop(timeout=3)
    assert (status, body) == (503, "unavailable: channel layer\n")


def test_nginx_serves_the_collected_static_files_itself(cluster: Cluster) -> None:
    status, headers, page = get(f"{cluster.url}/")
    assert status == 200
    assert headers[PROCESS] in ("0", "1")  # the page came from a daphne process
    stylesheet = re.search(r'href="(/static/rooms/site\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the page links the hashed stylesheet collectstatic wrote"
    status, headers, css = get(f"{cluster.url}{stylesheet.group(1)}", {"Accept-Encoding": "identity"})
    assert status == 200
    assert headers["Content-Type"] == "text/css"
    assert PROCESS not in headers  # from nginx's disk, no process involved
    assert "Expires" in headers
    assert css == (cluster.var / "static" / stylesheet.group(1).removeprefix("/static/")).read_text()
