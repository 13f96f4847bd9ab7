"""Nothing grows without bound: old stream events, viewer rows and webhook rows are pruned, and a
socket resuming from before what is kept gets a fresh `room.state`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.db import transaction
from django.utils import timezone

from comments.actions import post_comment
from liverooms.webhooks import retention as webhook_retention
from liverooms.webhooks.models import Attempt, Delivery, Endpoint, Event
from rooms import actions, retention
from rooms.events import RESUME_MAX_EVENTS, append_events
from rooms.models import Room, RoomEvent, RoomViewer
from tests.sockets import join


def stream_of(room: Room, count: int) -> None:
    with transaction.atomic():
        append_events(room, [("room.updated", {"room": {"n": n}}) for n in range(count)])


@pytest.mark.django_db(transaction=True)
async def test_a_live_room_keeps_what_a_resume_can_use(room: Room, carol) -> None:
    await sync_to_async(stream_of)(room, RESUME_MAX_EVENTS + 5)

    pruned = await sync_to_async(retention.prune)()

    assert pruned.events == 5
    kept = [seq async for seq in RoomEvent.objects.filter(room=room).values_list("seq", flat=True)]
    assert (min(kept), max(kept)) == (6, RESUME_MAX_EVENTS + 5)
    old = await join(room, carol, after=0)  # from before what is kept: a fresh snapshot
    assert (await old.recv())["type"] == "room.state"
    recent = await join(room, carol, after=RESUME_MAX_EVENTS)  # within it: the missed events
    assert [(await recent.recv())["seq"] for _ in range(5)] == list(range(RESUME_MAX_EVENTS + 1, RESUME_MAX_EVENTS + 6))
    for tab in (old, recent):
        await tab.close()


@pytest.mark.django_db
def test_an_ended_rooms_stream_and_viewer_rows_go_after_their_days(room: Room, alice, carol, settings) -> None:
    post_comment(room=room, author=carol, text="hello")
    RoomViewer.objects.create(room=room, key="user:1")
    actions.end_room_as_host(room=room, user=alice)
    other = actions.create_room(host=carol, title="Still live")
    post_comment(room=other, author=carol, text="kept")

    assert retention.prune() == retention.Pruned(events=0, viewers=0)  # ended just now: kept
    Room.objects.filter(pk=room.pk).update(ended_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1))
    assert retention.prune().events == 2  # the comment and the end
    assert RoomViewer.objects.filter(room=room).exists()
    Room.objects.filter(pk=room.pk).update(ended_at=timezone.now() - timedelta(days=settings.VIEWER_RETENTION_DAYS + 1))
    assert retention.prune().viewers == 1
    assert RoomEvent.objects.filter(room=other).count() == 1  # a live room's recent events stay


@pytest.mark.django_db
def test_settled_webhook_rows_go_and_pending_ones_stay(room: Room, carol, settings) -> None:
    hook = Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["comment.created"])
    for text in ("delivered", "gave up", "pending"):
        post_comment(room=room, author=carol, text=text)
    delivered, failed, pending = Delivery.objects.filter(endpoint=hook).order_by("event_id")
    Attempt.objects.create(delivery=delivered, ok=True)
    Delivery.objects.filter(pk=delivered.pk).update(status="delivered")
    Delivery.objects.filter(pk=failed.pk).update(status="failed")
    long_ago = timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS + 1)
    Delivery.objects.update(created_at=long_ago)
    Event.objects.update(created_at=long_ago)

    assert webhook_retention.prune() == 4  # two deliveries, their two events (and the attempt with them)

    assert list(Delivery.objects.values_list("pk", flat=True)) == [pending.pk]
    assert Event.objects.count() == 1
    assert not Attempt.objects.exists()
