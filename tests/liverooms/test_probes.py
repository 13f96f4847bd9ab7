"""/healthz for the balancer and /metrics for Prometheus, in one process (tests/cluster/ runs
them behind nginx on PostgreSQL + Redis)."""

from __future__ import annotations

import re

import pytest
from django.test import AsyncClient, Client, override_settings

from rooms.models import Room
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


def sample(text: str, name: str, labels: str = "") -> float | None:
    found = re.search("^" + re.escape(name + labels) + r" (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_it_answers_ok_to_a_balancer_whatever_host_it_asks_for() -> None:
    response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")  # not in ALLOWED_HOSTS
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_health_and_metrics_are_not_redirected_to_https() -> None:
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/metrics").status_code == 200
    assert Client().get("/").status_code == 301  # everything else is


def test_metrics_are_refused_to_a_public_address() -> None:
    response = Client(REMOTE_ADDR="8.8.8.8").get("/metrics")
    assert response.status_code == 403
    assert b"liverooms_" not in response.content


@override_settings(BEHIND_PROXY=True)
def test_behind_the_proxy_the_forwarded_client_counts() -> None:
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="8.8.8.8").status_code == 403
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200


@override_settings(METRICS_TOKEN="s3cret-metrics")
def test_a_public_scraper_with_the_token_may() -> None:
    public = Client(REMOTE_ADDR="8.8.8.8")
    assert public.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 200
    assert public.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metricz").status_code == 403
    assert public.get("/metrics", HTTP_AUTHORIZATION="s3cret-metrics").status_code == 403


async def test_metrics_count_the_rooms_sockets_and_viewers_of_this_process(room: Room, carol, bob) -> None:
    viewers = [await join(room, carol), await join(room, bob), await join(room)]
    try:
        response = await AsyncClient().get("/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.content.decode()
        assert sample(text, "liverooms_rooms") == 1
        assert sample(text, "liverooms_sockets") == 3
        assert sample(text, "liverooms_room_viewers", f'{{room="{room.pk}"}}') == 3
        assert sample(text, "liverooms_hub_backlog", f'{{room="{room.pk}"}}') == 0
        assert sample(text, "liverooms_relays") == 0
        assert sample(text, "process_cpu_seconds_total") is not None
    finally:
        for viewer in viewers:
            await viewer.close()
    after = (await AsyncClient().get("/metrics")).content.decode()
    assert sample(after, "liverooms_sockets") == 0
    assert sample(after, "liverooms_room_viewers", f'{{room="{room.pk}"}}') is None


async def test_a_comment_counts_one_delivery_per_socket(room: Room, alice, carol, bob) -> None:
    before = sample((await AsyncClient().get("/metrics")).content.decode(), "liverooms_deliveries_total") or 0
    host, *viewers = [await join(room, alice), await join(room, carol), await join(room, bob)]
    try:
        await host.ask("comment.post", text="one for everyone")
        for viewer in viewers:
            await viewer.recv("comment.created")
        text = (await AsyncClient().get("/metrics")).content.decode()
        assert sample(text, "liverooms_deliveries_total") == before + 3
        assert (sample(text, "liverooms_delivery_latency_seconds_count") or 0) >= 1
    finally:
        for peer in [host, *viewers]:
            await peer.close()
