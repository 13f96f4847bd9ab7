"""Webhook delivery on a real Celery worker and broker (CI's PostgreSQL + Redis run)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from comments.actions import post_comment
from liverooms.webhooks.models import Attempt, Delivery, Endpoint
from liverooms.webhooks.signing import SIGNATURE_HEADER, verify
from rooms.models import Room
from tests.servers import database_url_of, running
from tests.webhooks.receiver import receiver

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real worker on a real broker"),
]


def worker_env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_of(connection.settings_dict),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOK_RETRY_BASE": "0.3",
        "WEBHOOK_TIMEOUT": "1",
        "WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on 127.0.0.1
    }


# The webhooks queue only: a receiver that never answers is this worker's problem alone.
WORKER = [
    "-m",
    "celery",
    "-A",
    "liverooms",
    "worker",
    "--pool=solo",
    "--without-mingle",
    "-Q",
    "webhooks",
    "--loglevel=INFO",
]


def test_an_endpoint_that_fails_twice_gets_the_event_on_the_third_try(room: Room, carol: User) -> None:
    with receiver(script=[500, 502]) as rx, running(WORKER, env=worker_env()):
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        comment = post_comment(room=room, author=carol, text="third time lucky")
        rx.wait_for(3)
        deadline = time.monotonic() + 10
        while Delivery.objects.get().status == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)

    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("delivered", 3, 204)
    assert list(Attempt.objects.order_by("started_at", "id").values_list("status_code", flat=True)) == [500, 502, 204]
    [accepted] = rx.accepted
    assert accepted.json["data"]["comment"]["id"] == comment.pk
    assert verify(hook.secret, accepted.body, accepted.headers[SIGNATURE_HEADER]) is not None


def test_a_silent_endpoint_does_not_hold_up_another(room: Room, carol: User) -> None:
    with receiver(script=["hang"] * 20, hang_for=5) as silent, receiver() as fine, running(WORKER, env=worker_env()):
        Endpoint.objects.create(url=silent.url, event_types=["comment.created"])
        Endpoint.objects.create(url=fine.url, event_types=["comment.created"])
        for n in range(3):
            post_comment(room=room, author=carol, text=f"comment {n}")
        fine.wait_for(3)

    assert [r.json["data"]["comment"]["text"] for r in fine.accepted] == ["comment 0", "comment 1", "comment 2"]
    # The silent one got the first comment only, again and again: order holds, nothing skipped ahead.
    assert {r.json["data"]["comment"]["text"] for r in silent.received} == {"comment 0"}
