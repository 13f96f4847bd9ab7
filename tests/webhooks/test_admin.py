"""Operators register endpoints and follow deliveries in the admin; moderators see none of it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment
from conftest import PASSWORD
from liverooms.webhooks import delivery
from liverooms.webhooks.models import Delivery, Endpoint
from rooms.models import Room
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Client, django_user_model: type[User]) -> Client:
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    assert client.login(username="root", password=PASSWORD)
    return client


def test_an_operator_registers_an_endpoint_for_some_events(operator: Client) -> None:
    page = operator.get(reverse("admin:webhooks_endpoint_add"))
    assert b'value="viewer.peak"' in page.content
    answer = operator.post(
        reverse("admin:webhooks_endpoint_add"),
        {
            "url": "https://hooks.example.com/liverooms",
            "description": "CRM",
            "event_types": ["room.started", "room.ended"],
            "secret": "s3cret-value",
            "is_active": "on",
        },
    )
    assert answer.status_code == 302
    hook = Endpoint.objects.get()
    assert (hook.url, hook.event_types, hook.secret) == (
        "https://hooks.example.com/liverooms",
        ["room.started", "room.ended"],
        "s3cret-value",
    )


def test_a_bad_endpoint_is_refused_with_reasons(operator: Client) -> None:
    page = operator.post(
        reverse("admin:webhooks_endpoint_add"), {"url": "ftp://example.com/x", "event_types": ["nope"], "secret": "x"}
    )
    assert page.status_code == 200
    assert not Endpoint.objects.exists()
    assert b"errorlist" in page.content


def test_an_endpoint_cannot_be_deleted_only_turned_off(operator: Client) -> None:
    hook = Endpoint.objects.create(url="https://example.com/h", event_types=["room.ended"])
    assert operator.get(reverse("admin:webhooks_endpoint_delete", args=[hook.pk])).status_code == 403


def test_deliveries_show_their_attempts_and_can_be_resent(operator: Client, room: Room, carol: User) -> None:
    with receiver(script=[500]) as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        delivery.deliver_chain(hook.pk, room.pk)
        sent = Delivery.objects.get()

        listing = operator.get(reverse("admin:webhooks_delivery_changelist"))
        assert b"comment.created" in listing.content
        assert b"500" in listing.content
        detail = operator.get(reverse("admin:webhooks_delivery_change", args=[sent.pk]))
        assert b"HTTP 500" in detail.content

        operator.post(
            reverse("admin:webhooks_delivery_changelist"),
            {"action": "resend_selected", "_selected_action": [sent.pk]},
        )
        # Without a broker the task ran in place; with one, run the chain as the worker would.
        delivery.deliver_chain(hook.pk, room.pk)

    sent.refresh_from_db()
    assert sent.status == "delivered"
    assert len(rx.accepted) == 1


def test_moderators_do_not_see_webhooks(client: Client, mod: User) -> None:
    client.login(username="mod", password=PASSWORD)
    assert client.get(reverse("admin:webhooks_endpoint_changelist")).status_code == 403
    assert client.get(reverse("admin:webhooks_delivery_changelist")).status_code == 403
