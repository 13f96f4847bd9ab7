"""Room sockets for tests: the real ASGI application (Origin check, session auth, router)."""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from liverooms.asgi import application
from rooms.models import Room

ORIGIN = (b"origin", b"http://localhost")  # in the default ALLOWED_HOSTS, read when asgi.py loads
QUIET = {"viewers", "reactions"}  # ephemeral frames most tests look past


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Peer:
    """One browser tab on a room's websocket."""

    def __init__(self, communicator: WebsocketCommunicator, name: str) -> None:
        self.communicator = communicator
        self.name = name
        self.state: dict[str, Any] = {}
        self._asked = 0
        self._held: list[dict[str, Any]] = []  # frames `ask` read past, for later `recv`s

    async def send(self, type: str, **fields: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps({"type": type, **fields}))

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def recv(self, *types: str, wait: float = 3) -> dict[str, Any]:
        """The next frame of one of `types` (any type if none given), skipping viewer counts and
        reaction frames unless asked for them."""
        while True:
            frame = self._held.pop(0) if self._held else await self._read(wait)
            if types and frame["type"] in types:
                return frame
            if not types and frame["type"] not in QUIET:
                return frame
            if frame["type"] not in QUIET:
                raise AssertionError(f"{self.name} expected {types}, got {frame}")

    async def ask(self, type: str, **fields: Any) -> dict[str, Any]:
        """Send a frame with a ref and return its `ack` or `error` (other frames pass by)."""
        self._asked += 1
        ref = f"{self.name}-{self._asked}"
        await self.send(type, ref=ref, **fields)
        while True:
            frame = await self._read(3)
            if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
                return frame
            if frame["type"] not in QUIET:
                self._held.append(frame)

    async def _read(self, wait: float) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=wait))

    async def nothing_more(self, wait: float = 0.3) -> None:
        """No frame but viewer counts and reactions arrives within `wait` seconds, on a socket whose
        server side still runs (a consumer that died sends nothing either)."""
        assert not self._held, f"{self.name} has unread {self._held}"
        # receive_nothing polls; a timed-out receive_from would cancel the application.
        while not await self.communicator.receive_nothing(timeout=wait):
            frame = await self._read(1)
            assert frame["type"] in QUIET, f"{self.name} got an unexpected {frame}"
        if self.communicator.future.done():
            self.communicator.future.result()  # raises what ended it
            raise AssertionError(f"{self.name}'s socket is gone: its consumer returned")

    async def close(self) -> None:
        await self.communicator.disconnect()


async def until(tab: Peer, kind: str, wait: float = 3) -> dict[str, Any]:
    """The next `kind` frame, past any others the tab receives meanwhile."""
    while (frame := await tab.recv(wait=wait))["type"] != kind:
        pass
    return frame


async def join(
    room: Room,
    user: User | None = None,
    *,
    after: int | None = None,
    origin: bytes | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Peer:
    """Open a socket to the room as `user` (anonymous if None) and read its first frame; `headers`
    go with the upgrade request (an `accept-language`, a `cookie` besides the session's)."""
    extra = dict(headers or [])
    cookies = [extra.pop(b"cookie").decode()] if b"cookie" in extra else []
    headers = [(b"origin", origin) if origin else ORIGIN, *extra.items()]
    if user is not None:
        cookies.append(f"sessionid={await sync_to_async(session_cookie)(user)}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    path = f"/ws/rooms/{room.slug}/" + (f"?after={after}" if after is not None else "")
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected, f"{user} could not connect to {path}"
    peer = Peer(communicator, user.username if user else "anonymous")
    if after is None:
        # the snapshot comes first: no viewer count, reaction or offer may overtake it
        peer.state = await peer._read(3)
        assert peer.state["type"] == "room.state", peer.state
    return peer
