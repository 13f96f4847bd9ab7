"""Other apps listen to the room's stream (rooms.events.register_listener, from their AppConfig.ready;
the webhooks app does): they hear every event and notice as an object, inside the transaction that
makes it, and they hear what a removal redacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from comments.actions import post_comment, remove_comment
from comments.frames import comment_data
from liverooms.webhooks.models import Endpoint, Event
from rooms import actions, events
from rooms.frames import room_data, user_data
from rooms.models import Room, RoomEvent

pytestmark = pytest.mark.django_db


@dataclass
class Ears:
    heard: list[dict[str, Any]] = field(default_factory=list)
    inside_a_transaction: list[bool] = field(default_factory=list)
    redacted: list[dict[int, dict[str, Any]]] = field(default_factory=list)

    def listener(self, room: Room, frames: Any) -> None:
        self.heard += frames
        self.inside_a_transaction.append(transaction.get_connection().in_atomic_block)

    def on_redact(self, room: Room, payloads: dict[int, dict[str, Any]]) -> None:
        self.redacted.append(payloads)


@pytest.fixture
def ears(monkeypatch: pytest.MonkeyPatch) -> Ears:
    """A listener of our own besides the webhooks' (the registries are put back afterwards)."""
    monkeypatch.setattr(events, "_LISTENERS", list(events._LISTENERS))
    monkeypatch.setattr(events, "_REDACTIONS", list(events._REDACTIONS))
    ears = Ears()
    events.register_listener(ears.listener, on_redact=ears.on_redact)
    return ears


@pytest.mark.django_db(transaction=True)
def test_it_hears_each_event_and_notice_as_stored_inside_its_transaction(alice: User, carol: User, ears: Ears) -> None:
    room = actions.create_room(host=alice, title="Alice live")
    started = {"type": "room.started", "room": room_data(room), "host": user_data(alice)}
    comment = post_comment(room=room, author=carol, text="hi all")
    actions.set_comments_enabled(room=room, user=alice, enabled=False)

    stored = list(RoomEvent.objects.filter(room=room).order_by("seq").values_list("frame", flat=True))
    assert ears.heard == [started, *stored]  # a notice has no `seq`: it is not on the stream
    assert [(frame["type"], frame["seq"]) for frame in stored] == [("comment.created", 1), ("room.updated", 2)]
    assert ears.heard[1]["comment"] == comment_data(comment)
    assert ears.inside_a_transaction == [True, True, True]


def test_a_listener_that_fails_rolls_the_change_back_and_the_webhook_row_with_it(
    room: Room, alice: User, ears: Ears
) -> None:
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["room.ended"])

    def refuses(room: Room, frames: Any) -> None:
        raise RuntimeError("the listener's write failed")

    events.register_listener(refuses)
    with pytest.raises(RuntimeError, match="listener's write"):
        actions.end_room(room=room)

    room.refresh_from_db()
    assert (room.status, room.last_seq) == ("live", 0)
    assert not RoomEvent.objects.filter(room=room).exists()
    assert not Event.objects.exists()  # the outbox heard it first, and rolled back with it


def test_it_hears_what_a_removal_withdraws(room: Room, carol: User, ears: Ears) -> None:
    comment = post_comment(room=room, author=carol, text="soon gone")
    remove_comment(comment=comment, by=None)

    assert ears.redacted == [{1: {"comment": {"id": comment.pk, "removed": True}}}]
    assert [frame["type"] for frame in ears.heard if "seq" in frame] == ["comment.created", "comment.removed"]


def test_registering_again_changes_nothing(room: Room, carol: User, ears: Ears) -> None:
    events.register_listener(ears.listener, on_redact=ears.on_redact)
    post_comment(room=room, author=carol, text="once")
    assert [frame["type"] for frame in ears.heard if "seq" in frame] == ["comment.created"]
