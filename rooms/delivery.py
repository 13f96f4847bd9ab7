"""The ordered, gap-free run of a room's events to the sockets of one process, and every other
write to them (direct frames, broadcasts).

The hub delivers `seq` N+1 only after N. An event that arrives ahead of its predecessors (two
processes' commits crossing in the channel layer, or a message the layer dropped) makes it read
the missing ones from the stored stream first; the hub's timer also compares with `Room.last_seq`
(`catch_up`) to catch a lost last event. Each event is wrapped once in a rooms.wire.Frame (its
websocket bytes made once); most sockets take it at once (no coroutine per socket). A socket that
fails a write leaves; the others go on.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol, runtime_checkable

from liverooms import metrics
from liverooms.db import db_async
from rooms.catalogue import ROOM_ENDED, SEAT_UPDATED
from rooms.events import events_after, to_text
from rooms.models import Room
from rooms.subscription import cause, logger
from rooms.wire import Frame

GAP_READ_LIMIT = 1000


class Socket(Protocol):
    """What the hub needs of a room socket (rooms.consumers.RoomConsumer)."""

    user_id: int | None
    viewer_key: str  # who is watching, for unique-viewer counts (rooms.stats.viewer_key)

    # `text` is a rooms.wire.Frame: the same object for every socket, encoded once if needed.
    async def on_event(self, seq: int, text: str) -> None: ...

    async def on_ephemeral(self, text: str) -> None: ...


@runtime_checkable
class Viewer(Socket, Protocol):
    """A viewer's socket (rooms.consumers.RoomConsumer), which can also take a frame at once."""

    address: str  # the client address (liverooms.clients.scope_key): sockets are capped per address

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        """Write the frame without awaiting if the socket can (its direct path, nothing
        buffered); False if it must go through `on_event` / `on_ephemeral` instead."""
        ...


class Delivery:
    def __init__(self, room_id: int, sockets: set[Viewer], stage: dict[int, int | None]) -> None:
        self.room_id = room_id
        self.sockets = sockets  # viewers' sockets (the hub's set): counted as viewers
        self.watchers: set[Socket] = set()  # in-process listeners (the media relay): not counted
        self.stage = stage  # seat index -> user id, kept from `seat.updated` (the hub's dict)
        self.last_seq = 0
        self.ended = False
        self.speaking: list[int] = []  # the last `speaking` set heard (media.speaking)
        self.stage_changed = False  # a `seat.updated` since the audience last looked

    # --- the stream --------------------------------------------------------------------------

    async def on_event(self, seq: int, event: str, text: str) -> None:
        if seq <= self.last_seq:
            return  # already delivered (read from the stream to fill a gap)
        if seq > self.last_seq + 1:
            await self.fill_gap()
            if seq <= self.last_seq:
                return
        await self.deliver(seq, event, text)

    async def fill_gap(self) -> None:
        frames = await db_async(events_after)(self.room_id, self.last_seq, limit=GAP_READ_LIMIT)
        for frame in frames:
            await self.deliver(frame["seq"], frame["type"], to_text(frame))

    async def read_stored(self) -> None:
        """Deliver the stored events after `last_seq`, each only if it is still the next one (the
        timer's catch-up may be delivering the same ones meanwhile)."""
        for frame in await db_async(events_after)(self.room_id, self.last_seq, limit=GAP_READ_LIMIT):
            if frame["seq"] == self.last_seq + 1:
                await self.deliver(frame["seq"], frame["type"], to_text(frame))

    async def catch_up(self) -> None:
        """Deliver stored events the channel layer never brought (a lost last message)."""
        newest, _status = await room_position(self.room_id)
        if newest > self.last_seq:
            await self.fill_gap()

    async def deliver(self, seq: int, event: str, text: str) -> None:
        self.last_seq = seq
        self.ended = self.ended or event == ROOM_ENDED
        if event == SEAT_UPDATED:
            seat = json.loads(text)["seat"]
            self.stage[seat["index"]] = seat["user"]["id"] if seat["user"] else None
            self.stage_changed = True
        frame = Frame(text)
        # Most sockets take the frame at once (no coroutine per socket); the rest are awaited.
        waiting: list[Socket] = []
        for sock in list(self.sockets):
            try:
                if not sock.write_now(seq, frame):
                    waiting.append(sock)
            except Exception:
                self.drop(sock)
        for listener in [*waiting, *self.watchers]:
            try:
                await listener.on_event(seq, frame)
            except Exception:
                self.drop(listener)
        metrics.delivered(len(self.sockets))

    # --- other frames ------------------------------------------------------------------------

    async def direct(self, user_ids: set[int], text: str) -> None:
        """A frame for some users only (`seat.offered`, `comment.held`, …): their sockets here,
        and the in-process listeners (the media relay ends a stream when its seat's holder gets a
        new token: `seat.token`, made on whichever process)."""
        frame = Frame(text)
        for sock in [s for s in self.sockets if s.user_id in user_ids]:
            await self.write(sock, frame)
        for listener in list(self.watchers):
            try:
                await listener.on_ephemeral(frame)
            except Exception:
                self.drop(listener)

    async def broadcast(self, frame: dict[str, Any]) -> None:
        await self.broadcast_text(to_text(frame))

    async def broadcast_text(self, text: str) -> None:
        if text.startswith('{"type":"speaking"'):
            self.speaking = json.loads(text)["seats"]  # for room.state of late joiners
        frame = Frame(text)
        for sock in list(self.sockets):
            await self.write(sock, frame)

    async def write(self, sock: Viewer, text: Frame) -> None:
        try:
            if not sock.write_now(None, text):
                await sock.on_ephemeral(text)
        except Exception:
            self.drop(sock)

    # --- who is listening ------------------------------------------------------------------------

    def drop(self, sock: Socket) -> None:
        """A socket that failed a send (one closing mid-send, channels #1820) leaves; the others go on.
        Called while handling the failure: the log names its cause (the traceback at DEBUG)."""
        error = sys.exc_info()[1]
        who = f"user {sock.user_id}" if sock.user_id is not None else "an anonymous viewer"
        logger.warning(
            "room %s: dropping %s (%s): %s", self.room_id, who, type(sock).__name__, cause(error) if error else "?"
        )
        logger.debug("room %s: the failed send", self.room_id, exc_info=True)
        self.forget(sock)

    def forget(self, sock: Socket) -> None:
        self.watchers.discard(sock)
        if isinstance(sock, Viewer):
            self.sockets.discard(sock)


@db_async
def room_position(room_id: int) -> tuple[int, str]:
    last_seq, status = Room.objects.values_list("last_seq", "status").get(pk=room_id)
    return last_seq, status
