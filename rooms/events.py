"""The one publish path: append an event to a room's ordered stream, send it after commit.

Actions call `append_event` inside their transaction. The event's `seq` comes from the room
row (`last_seq + 1`, an UPDATE that holds the row lock until commit), so a room's events are
numbered without gaps and in commit order; a rolled-back change leaves neither a row nor a gap.
Only after the transaction commits is the frame sent to the room's channel-layer group.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F

from rooms.models import Room, RoomEvent

logger = logging.getLogger(__name__)


def room_group(room_id: int) -> str:
    """The channel-layer group every socket watching the room belongs to."""
    return f"room.{room_id}"


def append_event(room: Room, event_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Number, store and (after commit) broadcast one event; returns the wire frame."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event must run inside the transaction of the change it describes")
    Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
    seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    room.last_seq = seq
    frame = {"type": event_type, "seq": seq, **fields}
    RoomEvent.objects.create(room=room, seq=seq, type=event_type, frame=frame)
    transaction.on_commit(lambda: _broadcast(room.pk, frame))
    return frame


def events_after(*, room: Room, seq: int) -> list[dict[str, Any]]:
    """Every stored frame of the room with a `seq` greater than `seq`, in order."""
    return list(RoomEvent.objects.filter(room=room, seq__gt=seq).order_by("seq").values_list("frame", flat=True))


def _broadcast(room_id: int, frame: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(room_group(room_id), {"type": "room.event", "frame": frame})
    except Exception:
        # The event is stored: sockets that miss it catch up by resuming after their last seq.
        logger.exception("could not broadcast %s #%s of room %s", frame["type"], frame["seq"], room_id)
