"""Webhooks: recorded with the change, delivered signed, in order per room, retried with back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from comments.actions import post_comment, remove_comment
from liverooms.webhooks import delivery
from liverooms.webhooks.models import EVENT_TYPES, Attempt, Delivery, Endpoint, Event
from liverooms.webhooks.signing import SIGNATURE_HEADER, verify
from rooms import actions
from rooms.events import append_events
from rooms.models import Room
from rooms.seats import seat_user, set_devices
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.django_db
ALL = [name for name, _label in EVENT_TYPES]


def endpoint(url: str, types: list[str] | None = None, **fields: object) -> Endpoint:
    return Endpoint.objects.create(url=url, event_types=ALL if types is None else types, **fields)


def due_now(hook: Endpoint) -> None:
    """Let time pass: the endpoint's waiting deliveries are due."""
    Delivery.objects.filter(endpoint=hook).update(next_try_at=timezone.now() - timedelta(seconds=1))


def test_a_comment_reaches_its_endpoint_signed(room: Room, carol: User) -> None:
    with receiver() as rx:
        hook = endpoint(rx.url, ["comment.created"])
        comment = post_comment(room=room, author=carol, text="hello <b>you</b>")

        run = delivery.deliver_chain(hook.pk, room.pk)

    assert run == delivery.ChainRun(delivered=1, retry_at=None)
    [got] = rx.received
    payload = got.json
    assert payload["type"] == "comment.created"
    assert payload["room"] == room.slug
    assert payload["data"]["comment"]["id"] == comment.pk
    assert payload["data"]["comment"]["text"] == "hello <b>you</b>"  # data, not HTML: receivers escape
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Liverooms-Event"] == "comment.created"
    assert verify(hook.secret, got.body, got.headers[SIGNATURE_HEADER]) == payload["timestamp"]
    assert verify("another secret", got.body, got.headers[SIGNATURE_HEADER]) is None
    assert verify(hook.secret, got.body + b" ", got.headers[SIGNATURE_HEADER]) is None
    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("delivered", 1, 204)


def test_only_active_endpoints_that_asked_for_the_type_get_it(room: Room, carol: User) -> None:
    wants = endpoint("http://127.0.0.1:9/a", ["comment.created"])
    endpoint("http://127.0.0.1:9/b", ["comment.removed"])
    endpoint("http://127.0.0.1:9/c", ["comment.created"], is_active=False)
    post_comment(room=room, author=carol, text="hi")
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [wants.pk]


def test_nothing_is_recorded_when_nobody_listens(room: Room, carol: User) -> None:
    post_comment(room=room, author=carol, text="hi")
    assert not Event.objects.exists()


def test_a_rolled_back_change_sends_nothing(room: Room, carol: User) -> None:
    endpoint("http://127.0.0.1:9/a")

    def change_that_fails() -> None:
        with transaction.atomic():
            post_comment(room=room, author=carol, text="never happened")
            raise RuntimeError("the change fails after the event")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_a_rooms_events_arrive_in_order(alice: User, bob: User, carol: User) -> None:
    with receiver() as rx:
        hook = endpoint(rx.url)
        room = actions.create_room(host=alice, title="Live")
        seat_user(room=room, user=bob, index=1)
        set_devices(room=room, user=bob, camera=False)
        comment = post_comment(room=room, author=carol, text="hi")
        remove_comment(comment=comment, by=None)
        actions.end_room(room=room)

        delivery.deliver_chain(hook.pk, room.pk)

    types = [r.json["type"] for r in rx.received]
    assert types == ["room.started", "seat.updated", "seat.updated", "comment.created", "comment.removed", "room.ended"]
    seqs = [r.json["seq"] for r in rx.received]
    assert seqs == [None, 1, 2, 3, 4, 5]
    assert rx.received[0].json["data"]["host"]["username"] == "alice"
    assert rx.received[2].json["data"]["seat"]["camera"] is False


@override_settings(WEBHOOK_TIMEOUT=1, WEBHOOK_RETRY_BASE=10)
def test_errors_and_timeouts_are_retried_and_hold_back_later_events(room: Room, carol: User) -> None:
    with receiver(script=[500, "hang"], hang_for=2) as rx:
        hook = endpoint(rx.url, ["comment.created"])
        first = post_comment(room=room, author=carol, text="first")
        post_comment(room=room, author=carol, text="second")

        failed = delivery.deliver_chain(hook.pk, room.pk)
        assert failed.delivered == 0
        assert failed.retry_at is not None
        assert 8 <= (failed.retry_at - timezone.now()).total_seconds() <= 12  # the first back-off
        assert delivery.deliver_chain(hook.pk, room.pk).delivered == 0  # not due yet: nothing sent
        due_now(hook)
        timed_out = delivery.deliver_chain(hook.pk, room.pk)
        assert timed_out.retry_at is not None
        assert 16 <= (timed_out.retry_at - timezone.now()).total_seconds() <= 24  # doubled
        due_now(hook)
        assert delivery.deliver_chain(hook.pk, room.pk).delivered == 2
        rx.wait_for(4)

    assert [r.json["data"]["comment"]["text"] for r in rx.accepted] == ["first", "second"]
    head = Delivery.objects.get(event__data__comment__id=first.pk)
    assert (head.status, head.attempts) == ("delivered", 3)
    log = list(Attempt.objects.filter(delivery=head).order_by("started_at", "id"))
    assert [a.status_code for a in log] == [500, None, 204]
    assert "timed out" in log[1].error
    assert [a.ok for a in log] == [False, False, True]
    # Every attempt was signed; the receiver can tell them apart by `attempt`.
    assert [r.json["attempt"] for r in rx.received[:3]] == [1, 2, 3]
    assert all(verify(hook.secret, r.body, r.headers[SIGNATURE_HEADER]) for r in rx.received)


def test_back_off_doubles_up_to_its_cap() -> None:
    with override_settings(WEBHOOK_RETRY_BASE=10, WEBHOOK_RETRY_MAX=3600):
        delays = [delivery.backoff(n) for n in range(1, 14)]
    assert 8 <= delays[0] <= 12
    assert 16 <= delays[1] <= 24
    assert all(d <= 3600 * 1.2 for d in delays)
    assert delays[-1] >= 3600 * 0.8


@override_settings(WEBHOOK_RETRY_FOR=60, WEBHOOK_RETRY_BASE=100)
def test_a_delivery_is_given_up_when_its_window_closes_and_the_chain_goes_on(room: Room, carol: User) -> None:
    with receiver(script=[503]) as rx:
        hook = endpoint(rx.url, ["comment.created"])
        post_comment(room=room, author=carol, text="lost")
        post_comment(room=room, author=carol, text="next")
        delivery.deliver_chain(hook.pk, room.pk)

    statuses = list(Delivery.objects.order_by("event_id").values_list("status", flat=True))
    assert statuses == ["failed", "delivered"]
    assert [r.json["data"]["comment"]["text"] for r in rx.accepted] == ["next"]


def test_a_claimed_delivery_is_not_claimed_again(room: Room, carol: User) -> None:
    hook = endpoint("http://127.0.0.1:9/a", ["comment.created"])
    post_comment(room=room, author=carol, text="hi")
    now = timezone.now()
    assert delivery.claim_head(hook.pk, room.pk, now=now) is not None
    assert delivery.claim_head(hook.pk, room.pk, now=now) is None  # a duplicate task finds it taken
    # A killed worker's claim lapses, and the periodic sweep finds the chain again.
    later = now + delivery.lease() + timedelta(seconds=1)
    assert delivery.due_chains(now=later) == [(hook.pk, room.pk)]
    assert delivery.claim_head(hook.pk, room.pk, now=later) is not None


def test_a_turned_off_endpoint_gets_nothing_more(room: Room, carol: User) -> None:
    with receiver() as rx:
        hook = endpoint(rx.url, ["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        Endpoint.objects.filter(pk=hook.pk).update(is_active=False)
        delivery.deliver_chain(hook.pk, room.pk)
    assert rx.received == []
    assert Delivery.objects.get().status == "failed"


def test_a_resent_delivery_goes_again(room: Room, carol: User) -> None:
    with receiver() as rx:
        hook = endpoint(rx.url, ["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        delivery.deliver_chain(hook.pk, room.pk)
        assert delivery.resend(Delivery.objects.all()) == [(hook.pk, room.pk)]
        delivery.deliver_chain(hook.pk, room.pk)
    assert len(rx.accepted) == 2
    assert rx.accepted[0].json["id"] == rx.accepted[1].json["id"]  # the same event: receivers dedupe by id
    assert Delivery.objects.get().attempts == 2


def test_a_redirect_is_an_answer_not_followed(room: Room, carol: User) -> None:
    with receiver(script=[302]) as rx:
        hook = endpoint(rx.url, ["comment.created"])
        post_comment(room=room, author=carol, text="hi")
        run = delivery.deliver_chain(hook.pk, room.pk)
    assert run.delivered == 0
    assert Delivery.objects.get().last_status_code == 302


def test_a_batch_of_events_is_recorded_at_once_and_delivered_in_order(
    room: Room, carol: User, django_capture_on_commit_callbacks
) -> None:
    with receiver() as rx:
        hook = endpoint(rx.url, ["comment.removed"])
        comments = [post_comment(room=room, author=carol, text=f"spam {n}") for n in range(5)]
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            append_events(room, [("comment.removed", {"comment_id": c.pk}) for c in comments])
        # After commit: one group send for the batch and one delivery task for the endpoint.
        assert len(callbacks) == 2
        delivery.deliver_chain(hook.pk, room.pk)

    assert [r.json["data"]["comment_id"] for r in rx.accepted] == [c.pk for c in comments]
    seqs = [r.json["seq"] for r in rx.accepted]
    assert seqs == sorted(seqs)
