"""Baseline for bench/relay.py: aiortc's stock `MediaRelay` behind the same WHIP/WHEP offers.

    PYTHONPATH=bench .venv/bin/python -m daphne -b 127.0.0.1 -p 8001 stock_relay_app:application

A tiny ASGI app (served by daphne, like liverooms), no Django, no auth:

- `POST /whip/<seat>` (application/sdp): a publisher for seat 0..3. Its tracks are decoded by
  aiortc's receivers (once per publisher) and fanned out with `MediaRelay.subscribe()`.
- `POST /whep`: a viewer offering n x (audio + video) recvonly m-lines; the n-th audio / video
  m-line gets seat n's track through its own `MediaRelay` subscription, so every viewer track has
  its own encoder (VP8 / Opus): decode once, encode per viewer, which is aiortc's documented way
  to relay a track to several peers.
- `DELETE /whip/<id>` and `DELETE /whep/<id>` close a session.

Each publisher track also has one draining subscription from the start, so that frames the
receiver decodes while nobody watches do not pile up in the track's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

SEATS = 4
SDP = b"application/sdp"

relay = MediaRelay()
sources: dict[int, dict[str, MediaStreamTrack]] = {seat: {} for seat in range(SEATS)}
sessions: dict[str, RTCPeerConnection] = {}
drains: set[asyncio.Task[None]] = set()


def _config() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            await track.recv()


def _watch(pc: RTCPeerConnection) -> str:
    session = secrets.token_urlsafe(12)
    sessions[session] = pc

    @pc.on("connectionstatechange")
    async def _state() -> None:
        if pc.connectionState in ("failed", "closed"):
            sessions.pop(session, None)
            await pc.close()

    return session


async def publish(seat: int, offer: str) -> tuple[str, str]:
    pc = RTCPeerConnection(configuration=_config())
    session = _watch(pc)

    @pc.on("track")
    def _track(track: MediaStreamTrack) -> None:
        sources[seat][track.kind] = track
        task = asyncio.ensure_future(_drain(relay.subscribe(track, buffered=False)))
        drains.add(task)
        task.add_done_callback(drains.discard)

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return session, pc.localDescription.sdp


async def watch(offer: str) -> tuple[str, str]:
    pc = RTCPeerConnection(configuration=_config())
    session = _watch(pc)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    wanted = {"audio": 0, "video": 0}
    for transceiver in pc.getTransceivers():
        kind = transceiver.kind
        seat = wanted[kind]
        wanted[kind] += 1
        source = sources.get(seat, {}).get(kind)
        if source is not None:
            pc.addTrack(relay.subscribe(source, buffered=False))
    await pc.setLocalDescription(await pc.createAnswer())
    return session, pc.localDescription.sdp


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Any, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> None:
    head = [(b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    method, parts = scope["method"], scope["path"].strip("/").split("/")
    body = await _body(receive)
    try:
        if method == "POST" and len(parts) == 2 and parts[0] == "whip" and parts[1].isdigit():
            seat = int(parts[1])
            if not 0 <= seat < SEATS:
                await _respond(send, 404, b"no such seat\n")
                return
            session, answer = await publish(seat, body.decode())
        elif method == "POST" and parts == ["whep"]:
            session, answer = await watch(body.decode())
        elif method == "DELETE" and len(parts) == 2 and parts[1] in sessions:
            await sessions.pop(parts[1]).close()
            await _respond(send, 204)
            return
        else:
            await _respond(send, 404, b"not found\n")
            return
    except Exception as error:
        await _respond(send, 400, f"{error}\n".encode())
        return
    location = f"/{parts[0]}/{session}".encode()
    await _respond(send, 201, answer.encode(), [(b"content-type", SDP), (b"location", location)])
