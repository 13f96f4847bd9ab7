"""Who may do what over the room socket: every role against every action.

A refusal changes nothing: the seats, the room, the comments and the event stream are the same
before and after it.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async

from comments.models import Comment
from rooms import seats
from rooms.models import Room, RoomEvent, Seat
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["anonymous", "viewer", "guest", "host", "moderator"]
ACK = "ack"
UNAUTH = "unauthenticated"
NO = "forbidden"
NONE = "not_found"

# action, its fields, then what each of ROLES gets
MATRIX: list[tuple[str, dict[str, Any], list[str]]] = [
    ("comment.post", {"text": "hi"}, [UNAUTH, ACK, ACK, ACK, ACK]),
    ("reaction.send", {"kind": "heart"}, [ACK, ACK, ACK, ACK, ACK]),
    ("seat.set", {"camera": False}, [UNAUTH, NO, ACK, ACK, NO]),
    ("seat.set", {"index": 1, "mic": False}, [UNAUTH, NO, ACK, ACK, NO]),
    ("seat.set", {"index": 1, "camera": True}, [UNAUTH, NO, ACK, NO, NO]),
    ("seat.request", {}, [UNAUTH, ACK, NO, NO, ACK]),
    ("seat.invite", {"username": "dave"}, [UNAUTH, NO, NO, ACK, NO]),
    ("seat.accept", {}, [UNAUTH, NONE, NONE, NONE, NONE]),
    ("seat.decline", {}, [UNAUTH, NONE, NONE, NONE, NONE]),
    ("seat.leave", {}, [UNAUTH, NO, ACK, NO, NO]),
    ("seat.remove", {"index": 1}, [UNAUTH, NO, NO, ACK, NO]),
    ("comments.set", {"enabled": False}, [UNAUTH, NO, NO, ACK, NO]),
    ("room.end", {}, [UNAUTH, NO, NO, ACK, NO]),
]
CASES = [
    pytest.param(action, fields, role, outcomes[n], id=f"{role}-{action}-{'-'.join(map(str, fields.values()))}")
    for action, fields, outcomes in MATRIX
    for n, role in enumerate(ROLES)
]


def world(room: Room) -> tuple[Any, ...]:
    room.refresh_from_db()
    return (
        list(Seat.objects.filter(room=room).order_by("index").values_list("user", "camera", "mic", "publishing")),
        (room.status, room.comments_enabled, room.last_seq),
        Comment.objects.count(),
        RoomEvent.objects.count(),
    )


@pytest.mark.parametrize(("action", "fields", "role", "expected"), CASES)
async def test_each_role_gets_its_answer(
    room: Room, alice, bob, carol, mod, django_user_model, action: str, fields: dict[str, Any], role: str, expected: str
) -> None:
    await sync_to_async(django_user_model.objects.create_user)("dave", password="a-long-test-password")
    await sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    user = {"anonymous": None, "viewer": carol, "guest": bob, "host": alice, "moderator": mod}[role]
    peer = await join(room, user)
    before = await sync_to_async(world)(room)

    answer = await peer.ask(action, **fields)

    if expected == ACK:
        assert answer["type"] == "ack", answer
    else:
        assert (answer["type"], answer["code"]) == ("error", expected), answer
        assert answer["message"]
        assert await sync_to_async(world)(room) == before
    await peer.close()
