"""An attempt is bounded as a whole, and keeps the status, never the receiver's body (issue #12)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from comments.actions import post_comment
from conftest import PASSWORD
from liverooms.webhooks import delivery
from liverooms.webhooks.models import Attempt, Delivery, Endpoint
from rooms.models import Room
from tests.webhooks.receiver import receiver, tls_listener

pytestmark = pytest.mark.django_db

SECRET = "internal-token-3f9a"  # what a receiver (or whatever answers on its address) might say


@override_settings(WEBHOOK_TIMEOUT=1)
def test_a_receiver_that_trickles_bytes_is_cut_off_at_the_deadline(room: Room, carol: User) -> None:
    """One byte every 0.2 s never trips a per-read timeout of 1 s; the attempt's deadline does."""
    with receiver(script=["trickle"], trickle_every=0.2, trickle_for=6) as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        started = time.monotonic()
        run = delivery.deliver_chain(hook.pk, room.pk)
        took = time.monotonic() - started
        rx.wait_for(1, timeout=10)

    assert took < 2.0  # the whole attempt, not each read, within WEBHOOK_TIMEOUT (1 s)
    assert took < delivery.lease().total_seconds()
    assert run.delivered == 0
    attempt = Attempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == "timed out: no answer within 1 s"
    assert attempt.duration_ms < 2000
    assert Delivery.objects.get().status == "pending"  # retried later, like any failure


@override_settings(WEBHOOK_TIMEOUT=1)
def test_a_receiver_that_never_answers_is_cut_off_at_the_deadline(room: Room, carol: User) -> None:
    with receiver(script=["hang"], hang_for=3) as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        started = time.monotonic()
        delivery.deliver_chain(hook.pk, room.pk)
        assert time.monotonic() - started < 2.0
        rx.wait_for(1)
    assert Attempt.objects.get().error == "timed out: no answer within 1 s"


def test_only_the_status_is_kept_not_the_body(room: Room, carol: User, client: Client, django_user_model) -> None:
    body = f"<html>stack trace… {SECRET}</html>".encode()
    with receiver(script=[500], body=body, reason=f"Oops {SECRET}") as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        delivery.deliver_chain(hook.pk, room.pk)
    attempt = Attempt.objects.get()
    sent = Delivery.objects.get()
    assert (attempt.status_code, attempt.error) == (500, "HTTP 500 Internal Server Error")
    assert (sent.last_status_code, sent.last_error) == (500, "HTTP 500 Internal Server Error")

    django_user_model.objects.create_superuser("root", password=PASSWORD)
    assert client.login(username="root", password=PASSWORD)
    for url in (
        reverse("admin:webhooks_delivery_changelist"),
        reverse("admin:webhooks_delivery_change", args=[sent.pk]),
    ):
        page = client.get(url).content.decode()
        assert SECRET not in page
    assert (
        "HTTP 500 Internal Server Error"
        in client.get(reverse("admin:webhooks_delivery_change", args=[sent.pk])).content.decode()
    )


def test_a_success_with_a_body_is_a_success(room: Room, carol: User) -> None:
    with receiver(script=[200], body=SECRET.encode()) as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        assert delivery.deliver_chain(hook.pk, room.pk).delivered == 1
    assert (Attempt.objects.get().status_code, Attempt.objects.get().error) == (200, "")


def test_an_unknown_status_is_kept_as_a_number(room: Room, carol: User) -> None:
    with receiver(script=[599]) as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        delivery.deliver_chain(hook.pk, room.pk)
    assert Attempt.objects.get().error == "HTTP 599"


def test_a_refused_connection_says_so(room: Room, carol: User) -> None:
    with receiver() as rx:
        url = rx.url
    hook = Endpoint.objects.create(url=url, event_types=["comment.created"])  # nobody listens now
    post_comment(room=room, author=carol, text="hi")
    delivery.deliver_chain(hook.pk, room.pk)
    assert Attempt.objects.get().error == "ConnectionRefusedError: Connection refused"


def test_the_migration_forgets_bodies_recorded_before(room: Room, carol: User) -> None:
    from importlib import import_module

    from django.apps import apps

    hook = Endpoint.objects.create(url="http://127.0.0.1:9/a", event_types=["comment.created"])
    post_comment(room=room, author=carol, text="hi")
    sent = Delivery.objects.get()
    Delivery.objects.filter(pk=sent.pk).update(last_status_code=500, last_error=f"HTTP 500: {SECRET}")
    Attempt.objects.create(delivery=sent, status_code=500, error=f"HTTP 500: {SECRET}")
    refused = Attempt.objects.create(delivery=sent, status_code=None, error="ConnectionRefusedError: refused")
    import_module("liverooms.webhooks.migrations.0002_forget_response_bodies").forget(apps, None)
    assert list(Attempt.objects.filter(status_code=500).values_list("error", flat=True)) == [
        "HTTP 500 Internal Server Error"
    ]
    assert Delivery.objects.get().last_error == "HTTP 500 Internal Server Error"
    refused.refresh_from_db()
    assert refused.error == "ConnectionRefusedError: refused"  # no body in it: kept
    assert hook.deliveries.count() == 1


@override_settings(WEBHOOK_TIMEOUT=1)
def test_a_tls_server_that_never_shakes_hands_is_cut_off_at_the_deadline(room: Room, carol: User) -> None:
    with tls_listener(silent=True) as tls:
        hook = Endpoint.objects.create(url=f"https://127.0.0.1:{tls.port}/hooks", event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        started = time.monotonic()
        delivery.deliver_chain(hook.pk, room.pk)
        assert time.monotonic() - started < 2.0
    assert Attempt.objects.get().error == "timed out: no answer within 1 s"
