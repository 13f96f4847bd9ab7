"""The catalogue of frames is the one description: the publish path refuses what it does not
describe, and the docs and webhook types agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import transaction

from liverooms.webhooks.models import EVENT_TYPES
from rooms.catalogue import CATALOGUE, STREAM_TYPES, WEBHOOK_ONLY, UncataloguedFrame, check
from rooms.events import WEBHOOK_EVENTS, append_event, send_to_user
from rooms.models import Room

DOCS = Path(__file__).resolve().parents[2] / "docs"


def documented(page: str) -> set[str]:
    """The backticked dotted or plain names in the first column of the page's tables."""
    rows = re.findall(r"^\| `([a-z_.]+)`(?: / `([a-z_.]+)`)?", (DOCS / page).read_text(), flags=re.M)
    return {name for row in rows for name in row if name}


def test_every_frame_of_the_catalogue_is_in_the_protocol_doc() -> None:
    text = (DOCS / "protocol.md").read_text()
    missing = sorted(name for name in CATALOGUE if f"`{name}`" not in text)
    assert not missing, f"docs/protocol.md does not describe {missing}"


def test_the_protocol_docs_server_frames_are_all_in_the_catalogue() -> None:
    table = (DOCS / "protocol.md").read_text().split("Client → server")[0]
    rows = re.findall(r"^\| `([a-z_.]+)`(?: / `([a-z_.]+)`)?", table, flags=re.M)
    named = {name for row in rows for name in row if name}
    assert named - set(CATALOGUE) == set()


def test_webhook_types_are_stream_events_or_described_webhook_only_events() -> None:
    types = {name for name, _label in EVENT_TYPES}
    assert WEBHOOK_EVENTS <= STREAM_TYPES
    assert types == WEBHOOK_EVENTS | set(WEBHOOK_ONLY)
    assert documented("webhooks.md") == types


def test_an_event_nobody_described_is_not_published(room: Room) -> None:
    with pytest.raises(UncataloguedFrame), transaction.atomic():
        append_event(room, "comment.edited", {"comment": {}})
    with pytest.raises(UncataloguedFrame, match="unexpected"), transaction.atomic():
        append_event(room, "comment.removed", {"comment_id": 1, "text": "leak"})
    with pytest.raises(UncataloguedFrame, match="missing"), transaction.atomic():
        send_to_user(room, 1, {"type": "seat.offered", "index": 1})
    room.refresh_from_db()
    assert room.last_seq == 0


def test_stream_and_direct_frames_are_not_interchangeable() -> None:
    with pytest.raises(UncataloguedFrame):
        check("seat.offered", {"index": 1, "by": None}, stream=True)
    with pytest.raises(UncataloguedFrame):
        check("comment.created", {"comment": {}}, stream=False)


@pytest.mark.django_db(transaction=True)
async def test_a_broadcast_frame_reaches_every_socket_of_the_room(room: Room, carol) -> None:
    """How the media relay tells the room who is speaking (rooms.events.broadcast)."""
    from rooms.events import broadcast
    from tests.sockets import join

    tabs = [await join(room, carol), await join(room, None)]
    await broadcast(room.pk, {"type": "speaking", "seats": [0, 2]})
    for tab in tabs:
        assert await tab.recv("speaking") == {"type": "speaking", "seats": [0, 2]}
        await tab.close()
    with pytest.raises(UncataloguedFrame):
        await broadcast(room.pk, {"type": "speaking", "who": [0]})


@pytest.mark.django_db(transaction=True)
async def test_a_socket_joining_while_someone_talks_learns_who(room: Room, carol) -> None:
    from rooms.events import broadcast
    from tests.sockets import join

    first = await join(room, carol)
    await broadcast(room.pk, {"type": "speaking", "seats": [0]})
    await first.recv("speaking")
    late = await join(room, None)
    assert late.state["speaking"] == [0]
    for tab in (first, late):
        await tab.close()
