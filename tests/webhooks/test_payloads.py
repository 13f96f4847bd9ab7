"""What each webhook carries is what docs/webhooks.md promises, exactly: the outbox hears the rooms'
stream and notices (rooms.events) and records their fields as `data`, nothing more or less."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from comments.actions import post_comment
from comments.frames import comment_data
from liverooms.webhooks import delivery
from liverooms.webhooks.models import EVENT_TYPES, Endpoint, Event
from rooms import actions, stats
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.django_db
ALL = [name for name, _label in EVENT_TYPES]


def test_notices_and_events_carry_exactly_their_documented_data(alice: User, carol: User) -> None:
    with receiver() as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=ALL)
        room = actions.create_room(host=alice, title="Alice live")
        comment = post_comment(room=room, author=carol, text="hello")
        stats.record_presence(room_id=room.pk, viewer_keys=(), viewers=12, reactions={})
        stats.refresh(room_id=room.pk)
        actions.end_room(room=room)

        delivery.deliver_chain(hook.pk, room.pk)

    room.refresh_from_db()
    live = {"slug": room.slug, "title": "Alice live", "status": "live", "comments_enabled": True}
    got = [(r.json["type"], r.json["seq"], r.json["data"]) for r in rx.received]
    assert got == [
        ("room.started", None, {"room": live, "host": {"id": alice.pk, "username": "alice"}}),
        ("comment.created", 1, {"comment": comment_data(comment)}),
        ("viewer.peak", None, {"room": live, "viewers": 12}),
        ("room.ended", 2, {"room": {**live, "status": "ended"}}),
    ]


def test_a_rolled_back_notice_is_not_recorded(alice: User) -> None:
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=ALL)

    def opens_then_fails() -> None:
        with transaction.atomic():
            actions.create_room(host=alice, title="Never live")
            raise RuntimeError("the change fails after the notice")

    with pytest.raises(RuntimeError):
        opens_then_fails()
    assert not Event.objects.exists()


def test_events_nobody_subscribed_to_are_not_recorded(alice: User, carol: User) -> None:
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["viewer.peak"])
    room = actions.create_room(host=alice, title="Alice live")
    post_comment(room=room, author=carol, text="hello")
    actions.set_comments_enabled(room=room, user=alice, enabled=False)  # room.updated: no webhook type
    stats.record_presence(room_id=room.pk, viewer_keys=(), viewers=3, reactions={})
    stats.refresh(room_id=room.pk)
    assert list(Event.objects.values_list("type", "seq")) == [("viewer.peak", None)]
