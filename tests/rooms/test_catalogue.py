"""The catalogue of frames is the one description: the publish path refuses what it does not
describe, code names events by the catalogue's constants, and the docs and webhook types agree
with it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.db import transaction

from liverooms.webhooks.models import EVENT_TYPES, Endpoint, Event
from rooms import catalogue
from rooms.catalogue import CATALOGUE, NOTICES, STREAM_TYPES, UncataloguedFrame, check
from rooms.events import append_event, notify, send_to_user
from rooms.models import Room

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


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


def server_rows() -> list[tuple[list[str], str]]:
    """docs/protocol.md's table of server frames: (the type or types of a row, its fields cell)."""
    table = (DOCS / "protocol.md").read_text().split("Client → server")[0]
    rows = re.findall(r"^\| `([a-z_.]+)`(?: / `([a-z_.]+)`)? \| (.*) \|$", table, flags=re.M)
    return [([name for name in (first, second) if name], cell) for first, second, cell in rows]


def test_the_protocol_docs_rows_say_what_the_catalogue_says() -> None:
    """A stream event's row starts with `seq`; every field the catalogue requires is named."""
    wrong = []
    for names, cell in server_rows():
        for name in names:
            frame = CATALOGUE[name]
            if cell.startswith("`seq`, ") != frame.stream:
                wrong.append(f"{name}: {'a stream event' if frame.stream else 'not on the stream'}")
            wrong += [f"{name}: no `{field}`" for field in sorted(frame.fields) if f"`{field}`" not in cell]
    assert not wrong, f"docs/protocol.md disagrees with rooms/catalogue.py: {wrong}"


def top_level_names(cell: str) -> set[str]:
    """The backticked names of a docs cell outside any parentheses: `room` (`slug`, …), `host`."""
    while (shorter := re.sub(r"\([^()]*\)", "", cell)) != cell:
        cell = shorter
    return set(re.findall(r"`([a-z_]+)`", cell))


def test_webhook_types_are_stream_events_or_notices() -> None:
    types = {name for name, _label in EVENT_TYPES}
    assert types <= STREAM_TYPES | set(NOTICES)
    assert set(NOTICES) <= types, "a notice nobody listens to"
    assert not STREAM_TYPES & set(NOTICES), "a listener could not tell the notice from the event"
    assert documented("webhooks.md") == types


def test_the_webhook_docs_data_is_the_events_fields() -> None:
    rows = re.findall(r"^\| `([a-z_.]+)` \| [^|]* \| ([^|]*) \|$", (DOCS / "webhooks.md").read_text(), flags=re.M)
    assert len(rows) == len(EVENT_TYPES)
    for name, data in rows:
        fields = NOTICES[name] if name in NOTICES else CATALOGUE[name].fields
        assert top_level_names(data) == fields, f"docs/webhooks.md's `data` of {name}"


def test_top_level_names_ignore_what_is_inside_parentheses() -> None:
    cell = "`room`, `replay` (as above), `reason` (`host`, `moderator` (the admin) or `retention`)"
    assert top_level_names(cell) == {"room", "replay", "reason"}


def test_every_name_has_its_constant_and_every_constant_names_something() -> None:
    constants = {value for name, value in vars(catalogue).items() if name.isupper() and isinstance(value, str)}
    assert constants == set(CATALOGUE) | set(NOTICES)


# publishing function -> the position of its event type (the rest take a frame {type, ...})
NAMED_AT = {"append_event": 1, "notify": 0, "register_subject": 0}
NAMES = set(CATALOGUE) | set(NOTICES)


def literal_names(path: Path) -> list[tuple[int, str]]:
    """Event names written as text where events are made or read: a publishing call's type, a
    frame's `"type"`, an (event type, fields) pair for `append_events`, a comparison with a name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        texts: list[ast.expr] = []
        if isinstance(node, ast.Call):
            called = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if called in NAMED_AT and len(node.args) > NAMED_AT[called]:
                texts.append(node.args[NAMED_AT[called]])
        elif isinstance(node, ast.Dict):
            texts += [v for k, v in zip(node.keys, node.values, strict=True) if _is(k, "type")]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[1], ast.Dict):
            texts.append(node.elts[0])
        elif isinstance(node, ast.Compare):
            texts += [node.left, *node.comparators]
        found += [(text.lineno, text.value) for text in texts if isinstance(text, ast.Constant) and text.value in NAMES]
    return found


def _is(node: ast.expr | None, text: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == text


def test_code_names_events_by_the_catalogues_constants() -> None:
    literals = []
    for package in ("rooms", "comments", "media", "liverooms"):
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if where == "rooms/catalogue.py" or "migrations" in path.parts:
                continue
            literals += [f"{where}:{line} {name!r}" for line, name in literal_names(path)]
    assert not literals, f"name these by their rooms.catalogue constant: {literals}"


def test_the_check_sees_a_name_written_as_text(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "append_event(room, 'seat.updated', {})\n"
        "events.notify('room.started', room=room, data={})\n"
        "send_to_user(room, 1, {'type': 'seat.offered', 'index': 1})\n"
        "append_events(room, [('comment.removed', {'comment_id': 1})])\n"
        "append_event(room, SEAT_UPDATED, {'type': 'room.event'})\n"
        "if frame['type'] == 'viewers' or 'room.ended' != event: pass\n"
    )
    found = sorted(name for _line, name in literal_names(module))
    assert found == ["comment.removed", "room.ended", "room.started", "seat.offered", "seat.updated", "viewers"]


def test_an_event_nobody_described_is_not_published(room: Room) -> None:
    with pytest.raises(UncataloguedFrame), transaction.atomic():
        append_event(room, "comment.edited", {"comment": {}})
    with pytest.raises(UncataloguedFrame, match="unexpected"), transaction.atomic():
        append_event(room, "comment.removed", {"comment_id": 1, "text": "leak"})
    with pytest.raises(UncataloguedFrame, match="missing"), transaction.atomic():
        send_to_user(room, 1, {"type": "seat.offered", "index": 1})
    room.refresh_from_db()
    assert room.last_seq == 0


def test_a_notice_nobody_described_is_not_told(room: Room) -> None:
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=[name for name, _ in EVENT_TYPES])
    with pytest.raises(UncataloguedFrame), transaction.atomic():
        notify("room.paused", room=room, data={"room": {}})
    with pytest.raises(UncataloguedFrame, match="missing"), transaction.atomic():
        notify("viewer.peak", room=room, data={"room": {}})
    with pytest.raises(UncataloguedFrame, match="unexpected"), transaction.atomic():
        notify("room.started", room=room, data={"room": {}, "host": None, "password": "x"})
    with pytest.raises(UncataloguedFrame), transaction.atomic():
        notify("room.ended", room=room, data={"room": {}})  # a stream event, not a notice
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_notice_is_told_only_inside_the_change(room: Room) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        notify("viewer.peak", room=room, data={"room": {}, "viewers": 3})


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
