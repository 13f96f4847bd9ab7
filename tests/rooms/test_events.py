"""Events leave only after their transaction commits, on the room's channel-layer group."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from comments.actions import post_comment
from rooms.events import append_event, room_group
from rooms.models import Room

pytestmark = pytest.mark.django_db


def listen(room: Room) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(room_group(room.pk), channel)
    return channel


def receive(channel: str) -> dict:
    return async_to_sync(get_channel_layer().receive)(channel)


def test_a_committed_event_reaches_the_rooms_group(room: Room, carol, django_capture_on_commit_callbacks) -> None:
    channel = listen(room)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        comment = post_comment(room=room, author=carol, text="hi all")
    assert len(callbacks) == 1
    message = receive(channel)
    assert message["type"] == "room.event"
    assert message["seq"] == 1
    frame = json.loads(message["text"])
    assert frame["type"] == "comment.created"
    assert frame["seq"] == 1
    assert frame["comment"]["id"] == comment.pk


def test_a_rolled_back_event_is_neither_stored_nor_sent(room: Room, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                append_event(room, "room.updated", {"room": {}})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == []
    room.refresh_from_db()
    assert room.last_seq == 0
    assert not room.events.exists()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_publish_outside_a_transaction(room: Room) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        append_event(room, "room.updated", {"room": {}})
