"""The one publish path: append an event to a room's ordered stream, send it after commit.

Actions call `append_event` inside their transaction. The event's `seq` comes from the room
row (`last_seq + 1`, an UPDATE that holds the row lock until commit), so a room's events are
numbered without gaps and in commit order; a rolled-back change leaves neither a row nor a gap.
Only after the transaction commits is the frame sent to the room's channel-layer group.

Other apps listen from their AppConfig.ready (`register_listener`; the webhooks app records its
outbox this way): a listener gets the event objects inside the same transaction, so what it
writes commits or rolls back with them. It also hears the room's notices (`notify`): what
happens in a room without being a frame of its stream (a host went live, a new viewer peak).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

from rooms import catalogue
from rooms.models import Room, RoomEvent

logger = logging.getLogger(__name__)


# What listeners hear: the room, and its events as stored (`{type, seq, **fields}`, in order) or
# one notice (`{type, **fields}`: no `seq`). They run inside the change's transaction; one that
# raises rolls the change back (a transactional outbox: an event and what a listener records of it
# commit together or not at all). They must not change the dicts: the caller gets the same ones.
Listener = Callable[[Room, Sequence[dict[str, Any]]], None]
# A redaction: the room, and for each `seq` withdrawn, the fields the event carries from now on.
Redaction = Callable[[Room, dict[int, dict[str, Any]]], None]
_LISTENERS: list[Listener] = []
_REDACTIONS: list[Redaction] = []


def register_listener(listener: Listener, *, on_redact: Redaction | None = None) -> None:
    """Hear every stream event and notice of every room, in the transaction that makes it; a
    listener that keeps what it heard (webhook payloads) says with `on_redact` how to withdraw it
    (`redact`). Registering the same functions again changes nothing."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    if on_redact is not None and on_redact not in _REDACTIONS:
        _REDACTIONS.append(on_redact)


# event type -> what an event of that type is about ("comment:42"): the events that can be
# redacted later register here (comments.apps), and their rows carry the subject.
_SUBJECTS: dict[str, Callable[[dict[str, Any]], str]] = {}


def register_subject(event_type: str, subject_of: Callable[[dict[str, Any]], str]) -> None:
    """Events of `event_type` are stored with `subject_of(fields)`, so `redact` can find them."""
    _SUBJECTS[event_type] = subject_of


def room_group(room_id: int) -> str:
    """The channel-layer group every socket watching the room belongs to."""
    return f"room.{room_id}"


def append_event(room: Room, event_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Number, store and (after commit) broadcast one event; returns the wire frame."""
    return append_events(room, [(event_type, fields)])[0]


def append_events(room: Room, events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Number, store and (after commit) broadcast several events of one room, in order, with one
    UPDATE and one INSERT however many there are (bulk moderation removes hundreds at a time)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event must run inside the transaction of the change it describes")
    if not events:
        return []
    for event_type, fields in events:
        catalogue.check(event_type, fields, stream=True)
    Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + len(events))
    last_seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    room.last_seq = last_seq
    first = last_seq - len(events) + 1
    frames = [{"type": event_type, "seq": first + n, **fields} for n, (event_type, fields) in enumerate(events)]
    RoomEvent.objects.bulk_create(
        [
            RoomEvent(
                room=room, seq=frame["seq"], type=frame["type"], frame=frame, subject=_subject(event_type, fields)
            )
            for frame, (event_type, fields) in zip(frames, events, strict=True)
        ]
    )
    messages = [
        {"type": "room.event", "seq": frame["seq"], "event": frame["type"], "text": to_text(frame)} for frame in frames
    ]
    # The broadcast is registered first: after-commit work that fails later (a webhook kick with
    # the broker down) cannot keep a committed event from the room's sockets.
    transaction.on_commit(lambda: _group_send_all(room.pk, messages))
    for listener in _LISTENERS:
        listener(room, frames)
    return frames


def notify(notice_type: str, *, room: Room, data: dict[str, Any]) -> None:
    """Tell the listeners of a notice (catalogue.NOTICES): something that happened in the room but
    is not a frame of its stream (`room.started`, `viewer.peak`, a held comment). Like an event, it
    is told inside the transaction of the change it describes, so it commits or rolls back with it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify must run inside the transaction of the change it describes")
    catalogue.check_notice(notice_type, data)
    notice = [{"type": notice_type, **data}]
    for listener in _LISTENERS:
        listener(room, notice)


def _subject(event_type: str, fields: dict[str, Any]) -> str:
    subject_of = _SUBJECTS.get(event_type)
    return subject_of(fields) if subject_of is not None else ""


def redact(room: Room, replacements: dict[str, Callable[[str], dict[str, Any]]]) -> int:
    """Withdraw what stored events carry: every stream row of the room about one of the subjects
    becomes `{type, seq, **replacements[subject](type)}` (its `seq` stays, so the stream stays
    gap-free), and so does what listeners recorded of it (their `on_redact`: webhook payloads).
    Runs in the transaction of the change that withdraws it (a removal); returns how many events
    were redacted."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("redact must run inside the transaction of the change it describes")
    if not replacements:
        return 0
    about = RoomEvent.objects.filter(room=room, subject__in=list(replacements))
    rows = list(about.only("pk", "seq", "type", "subject"))
    payloads = {row.seq: replacements[row.subject](row.type) for row in rows}
    for row in rows:
        row.frame = {"type": row.type, "seq": row.seq, **payloads[row.seq]}
    RoomEvent.objects.bulk_update(rows, ["frame"], batch_size=500)
    if payloads:
        for on_redact in _REDACTIONS:
            on_redact(room, payloads)
    return len(rows)


def send_to_user(room: Room, user_id: int, frame: dict[str, Any]) -> None:
    """After commit, send an ephemeral frame (no `seq`) to one user's sockets in the room."""
    catalogue.check(frame["type"], frame, stream=False)
    message = {"type": "room.direct", "user_id": user_id, "text": to_text(frame)}
    transaction.on_commit(lambda: _group_send(room.pk, message))


def send_to_users(room: Room, user_ids: list[int], frame: dict[str, Any]) -> None:
    """`send_to_user` for several users at once (one message to the room's group)."""
    catalogue.check(frame["type"], frame, stream=False)
    message = {"type": "room.direct", "user_ids": sorted(set(user_ids)), "text": to_text(frame)}
    transaction.on_commit(lambda: _group_send(room.pk, message))


async def broadcast(room_id: int, frame: dict[str, Any]) -> None:
    """Send an ephemeral frame (no `seq`, not stored) to every socket of the room, on every
    process, now: for what changes too often to store (who is speaking). Never raises."""
    catalogue.check(frame["type"], frame, stream=False)
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(room_group(room_id), {"type": "room.broadcast", "text": to_text(frame)})
    except Exception:
        logger.warning("room %s: could not send %s", room_id, frame["type"], exc_info=True)


def to_text(frame: dict[str, Any]) -> str:
    """A frame as it goes on the wire: compact JSON, serialised once per event."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def events_after(room_id: int, seq: int, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The room's stored frames with a `seq` greater than `seq`, in order (the first `limit`)."""
    frames = RoomEvent.objects.filter(room_id=room_id, seq__gt=seq).order_by("seq").values_list("frame", flat=True)
    return list(frames[:limit] if limit is not None else frames)


def _group_send(room_id: int, message: dict[str, Any]) -> None:
    _group_send_all(room_id, [message])


def _group_send_all(room_id: int, messages: list[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_in_order)(layer, room_group(room_id), messages)
    except Exception:
        # A stored event is not lost: sockets fill the gap from the stream when the next one arrives.
        logger.exception("could not send %s to room %s", messages[0]["type"], room_id)


async def _send_in_order(layer: Any, group: str, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        await layer.group_send(group, {**message, "at": time.time()})  # liverooms.metrics: delivery latency


RESUME_MAX_EVENTS = 1000


def replay(room_id: int, after: int) -> list[dict[str, Any]] | None:
    """The events a socket resuming after `after` missed, or None when it needs a fresh
    `room.state` instead (a `seq` from the future, too far behind, or already pruned)."""
    last_seq = Room.objects.values_list("last_seq", flat=True).get(pk=room_id)
    if after < 0 or after > last_seq or last_seq - after > RESUME_MAX_EVENTS:
        return None
    frames = events_after(room_id, after)
    if any(frame["seq"] != after + n for n, frame in enumerate(frames, start=1)):
        return None
    return frames
