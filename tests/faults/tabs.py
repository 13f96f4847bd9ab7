"""A room socket over a real websocket to a daphne the fault tests started: every frame it
received is kept (in order), and `next` waits for one of the given types."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets


class Tab:
    """One socket, and every frame it received, by type."""

    def __init__(self, socket: Any, *, wait: float = 10) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []
        self.wait = wait  # seconds `next` waits for a frame, unless told

    async def send(self, **frame: Any) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, *types: str, wait: float | None = None) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), self.wait if wait is None else wait))
            self.frames.append(frame)
            if frame["type"] in types:
                return frame

    async def post(self, text: str) -> dict[str, Any]:
        """Post a comment whose `ref` is its text; its `ack` or `error`."""
        await self.send(type="comment.post", text=text, ref=text)
        return await self.next("ack", "error")

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if "seq" in f and f["type"] != "room.state"]


async def open_tab(port: int, slug: str, cookie: str | None = None, *, wait: float = 10) -> Tab:
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/rooms/{slug}/", origin=f"http://127.0.0.1:{port}", additional_headers=headers
    )
    tab = Tab(socket, wait=wait)
    await tab.next("room.state")
    return tab
