"""The room websocket (`/ws/rooms/<slug>/`): thin. It joins the room's hub, sends the snapshot
or the missed events, routes each client frame to its action and answers `ack` or `error`."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from channels import consumer as channels_consumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import DEFAULT_CHANNEL_LAYER
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from liverooms.adapters import channels_asgi
from liverooms.clients import scope_key
from liverooms.db import db_async
from liverooms.errors import ActionError, ErrorCode, rate_limited
from liverooms.ratelimit import Bucket, retry_after
from rooms.catalogue import ACK, ERROR
from rooms.events import replay, to_text
from rooms.handlers import handle
from rooms.hub import RoomHub, hubs
from rooms.language import socket_language
from rooms.models import Room
from rooms.protocol import FrameError, parse_frame
from rooms.snapshot import room_state
from rooms.stats import viewer_key
from rooms.tally import check_reaction
from rooms.throttle import TooManySockets
from rooms.wire import DirectSocket, Frame

logger = logging.getLogger(__name__)


class RoomConsumer(AsyncWebsocketConsumer):
    # Sockets get room messages from their hub, not from a channel each: no per-socket
    # subscription, and each event is serialised once per room, not once per socket.
    # (If channels changed how an unknown alias behaves, its adapter said so at start-up: then each
    # socket gets a channel of its own again, unused but harmless.)
    channel_layer_alias = "liverooms.no-channel-per-socket" if channels_asgi.ADAPTER.usable() else DEFAULT_CHANNEL_LAYER

    room: Room | None = None
    hub: RoomHub | None = None
    _direct: DirectSocket | None = None

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.user_id: int | None = self.user.pk if self.user.is_authenticated else None
        self.viewer_key = _viewer_key(self.scope, self.user_id)
        self.last_seq = 0
        # What the hub brings while the snapshot is read: (seq, text), seq None for ephemeral frames.
        self._buffer: list[tuple[int | None, str]] | None = []
        self._reactions = Bucket(capacity=settings.REACTION_BURST, per_second=settings.REACTIONS_PER_SECOND)
        self._frames = Bucket(capacity=settings.SOCKET_FRAME_BURST, per_second=settings.SOCKET_FRAMES_PER_SECOND)
        self.address = scope_key(self.scope)

        self.room = await _room(self.scope["url_route"]["kwargs"]["slug"])
        if self.room is None:
            await self.accept()
            await self.send_error("not_found", _("There is no such live."))
            await self.close(code=4404)
            return
        try:
            self.hub = await hubs().join(self.room, self)
        except TooManySockets as refused:
            await self.accept()
            await self.send_error(refused.code, refused.message, **refused.fields)
            await self.close(code=4429)
            return
        try:
            await self.accept()
            self._direct = DirectSocket.find(getattr(self, "base_send", None))
            await self._catch_up(self.room, self.hub)
        except BaseException:
            await hubs().leave(self.room.pk, self)
            raise

    async def _catch_up(self, room: Room, hub: RoomHub) -> None:
        """Send the snapshot or the missed events, then what the hub brought meanwhile."""
        after = _after(self.scope.get("query_string", b""))
        missed = None if after is None else await db_async(replay)(room.pk, after)
        if after is None or missed is None:
            state = await _state(room.pk, self.user, max(hub.viewers, hub.count_viewers()))
            state["speaking"] = hub.speaking
            self.last_seq = state["seq"]
            await self.send_text(to_text(state))
        else:
            self.last_seq = after
            for frame in missed:
                self.last_seq = frame["seq"]
                await self.send_text(to_text(frame))
        buffered, self._buffer = self._buffer, None
        for seq, text in buffered or []:
            await (self.on_ephemeral(text) if seq is None else self.on_event(seq, text))

    async def disconnect(self, code: int) -> None:
        if self.room is not None and self.hub is not None:
            await hubs().leave(self.room.pk, self)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """However the socket's life ends — a disconnect, or an error that ends the consumer
        without one — it leaves its hub: a dead socket is neither counted nor written to. Everything it
        says is in its user's language (rooms.language: Django's LocaleMiddleware skips websockets)."""
        try:
            with translation.override(socket_language(scope)):
                await super().__call__(scope, receive, send)
        finally:
            if self.room is not None and self.hub is not None:
                await hubs().leave(self.room.pk, self)

    # --- from the hub ----------------------------------------------------------------------

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        """The hub's fast path: the frame goes straight to the socket when nothing is being
        held back (the snapshot is sent) and the frame is the next one (or has no `seq`)."""
        direct = self._direct
        if direct is None or self._buffer is not None:
            return False
        if seq is not None:
            if seq != self.last_seq + 1:
                return False  # a repeat or a jump: on_event decides
            self.last_seq = seq
        direct.write(frame)
        return True

    async def on_event(self, seq: int, text: str) -> None:
        if self._buffer is not None:
            self._buffer.append((seq, text))
            return
        if seq <= self.last_seq:
            return
        if seq != self.last_seq + 1:
            logger.warning("socket in room %s jumps from seq %s to %s", self.room_id, self.last_seq, seq)
        self.last_seq = seq
        await self.send_text(text)

    async def on_ephemeral(self, text: str) -> None:
        """Frames without a `seq` (viewers, reactions, seat offers): after the snapshot, never before."""
        if self._buffer is not None:
            self._buffer.append((None, text))
            return
        await self.send_text(text)

    async def send_text(self, text: str) -> None:
        if self._direct is not None and isinstance(text, Frame):
            self._direct.write(text)  # the hub's frames: encoded once, straight to the socket
        else:
            await self.send(text_data=text)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its per-message `aclose_old_connections()` thread hop: every
        database call here goes through `db_async`, which closes old connections itself. (That hop
        was half the server's CPU with thousands of viewers sending hearts; see bench/README.md.)"""
        if not channels_asgi.ADAPTER.usable():
            await super().dispatch(message)  # channels' own, with its per-message hop
            return
        handler = getattr(self, channels_consumer.get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    @property
    def room_id(self) -> int | None:
        return self.room.pk if self.room else None

    # --- from the client -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None or self.hub is None:
            return
        try:
            frame = parse_frame(text_data)
        except FrameError as error:
            if (wait := self._frames.wait()) and error.code != "too_long":
                error = FrameError(_("Slow down a little."), ref=error.ref, code="rate_limited")
                error.fields["retry_after"] = retry_after(wait)
            await self.send_error(error.code, error.message, error.ref, **error.fields)
            if error.code == "too_long":
                await self.close(code=1009)
            return
        if wait := self._frames.wait():
            await self.send_error("rate_limited", _("Slow down a little."), frame.ref, retry_after=retry_after(wait))
            return
        try:
            if frame.type == "reaction.send":
                self._react(self.hub, frame.fields["kind"])
                extra: dict[str, Any] = {}
            else:
                extra = await db_async(handle)(frame, room=self.room, user=self.user)
        except ActionError as error:
            await self.send_error(error.code, error.message, frame.ref, **error.fields)
            return
        except Exception:
            # A bug or an outage (the database gone) answers this frame; the socket stays open.
            # Actions change state in one transaction, so a failure mid-way has changed nothing.
            logger.exception("room %s: %s failed", self.room_id, frame.type)
            await self.send_error("internal", _("Something went wrong on our side; try again."), frame.ref)
            return
        if frame.type != "reaction.send" or frame.ref is not None:
            await self.send_text(to_text({"type": ACK, "ref": frame.ref, **extra}))

    def _react(self, hub: RoomHub, kind: str) -> None:
        check_reaction(kind)
        if hub.ended:
            raise ActionError("room_ended", _("This live has ended."))
        wait = self._reactions.wait()
        if wait:
            raise rate_limited(_("Slow down a little."), wait=wait)
        hub.add_reaction(kind)

    async def send_error(self, code: ErrorCode, message: str, ref: str | None = None, **fields: Any) -> None:
        await self.send_text(to_text({"type": ERROR, "code": code, "message": message, "ref": ref, **fields}))


@db_async
def _room(slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


@db_async
def _state(room_id: int, user: Any, viewers: int) -> dict[str, Any]:
    return room_state(room_id=room_id, user=user, viewers=viewers)


def _after(query_string: bytes) -> int | None:
    """The `seq` in `?after=<seq>`, if the socket is resuming."""
    values = parse_qs(query_string.decode("latin-1")).get("after")
    if not values or not values[0].isdigit():
        return None
    return int(values[0])


def _viewer_key(scope: dict[str, Any], user_id: int | None) -> str:
    """The account, else the browser session, else the client address: one anonymous viewer per
    address however many user agents it claims."""
    session = scope.get("session")
    return viewer_key(user_id=user_id, session_key=getattr(session, "session_key", None), client=scope_key(scope))
