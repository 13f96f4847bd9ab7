"""Real aiortc client peers for the relay tests: a publisher with synthetic VP8 + Opus, a viewer."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import av
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from channels.db import database_sync_to_async
from django.test import AsyncClient

from media.relay import RoomRelay
from rooms.models import Room, Seat
from tests.waiting import wait_for  # noqa: F401  # re-exported: the media tests import it from here

WIDTH, HEIGHT = 320, 240
SDP = "application/sdp"


def seat_level(seat: int) -> int:
    """Luma that identifies a seat's picture."""
    return 40 + 50 * seat


class GrayTrack(VideoStreamTrack):
    """320x240 frames of one flat luma level (so a decoded frame says which seat sent it)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for plane, value in zip(frame.planes, (self.level, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


def mean_luma(frame: av.VideoFrame) -> float:
    plane = frame.planes[0]
    data = bytes(plane)
    width, height, stride = frame.width, frame.height, plane.line_size
    total = 0
    for row in range(0, height, 4):
        total += sum(data[row * stride : row * stride + width])
    return total / (width * len(range(0, height, 4)))


def config() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def only(codec: str) -> list[Any]:
    """Codec preferences offering just `codec` (e.g. "video/H264"), with its RTX."""
    kind = codec.split("/")[0]
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType in (codec, f"{kind}/rtx")]


class Publisher:
    """A WHIP client: one sendonly video (gray level of the seat) and/or one sendonly audio.
    `video_codec` ("video/H264") offers only that codec for video (default: aiortc's, VP8 first)."""

    def __init__(self, seat: int, *, video: bool = True, audio: bool = True, video_codec: str | None = None) -> None:
        self.seat = seat
        self.pc = RTCPeerConnection(configuration=config())
        self.video: GrayTrack | None = GrayTrack(seat_level(seat)) if video else None
        self.audio: AudioStreamTrack | None = AudioStreamTrack() if audio else None
        if self.audio is not None:
            self.pc.addTransceiver(self.audio, direction="sendonly")
        if self.video is not None:
            transceiver = self.pc.addTransceiver(self.video, direction="sendonly")
            if video_codec is not None:
                transceiver.setCodecPreferences(only(video_codec))
        self.session_id: str | None = None

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp: str = self.pc.localDescription.sdp
        return sdp

    async def start(self, relay: RoomRelay, **kwargs: Any) -> str:
        self.session_id, answer = await relay.publish(self.seat, await self.offer(), **kwargs)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return answer

    async def accept(self, answer: str) -> None:
        """Apply an answer that came back over HTTP."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


class Viewer:
    """A WHEP client: `pairs` x (audio + video) recvonly transceivers; `video_codec` as for Publisher."""

    def __init__(self, pairs: int = 4, *, video_first: bool = False, video_codec: str | None = None) -> None:
        self.pc = RTCPeerConnection(configuration=config())
        for _ in range(pairs):
            kinds = ("video", "audio") if video_first else ("audio", "video")
            for kind in kinds:
                transceiver = self.pc.addTransceiver(kind, direction="recvonly")
                if kind == "video" and video_codec is not None:
                    transceiver.setCodecPreferences(only(video_codec))
        self.session_id: str | None = None
        self.answer = ""

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp: str = self.pc.localDescription.sdp
        return sdp

    async def start(self, relay: RoomRelay) -> str:
        self.session_id, self.answer = await relay.watch(await self.offer())
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=self.answer, type="answer"))
        return self.answer

    async def accept(self, answer: str) -> None:
        self.answer = answer
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def track(self, seat: int, kind: str) -> MediaStreamTrack:
        """The receiving track of the seat-th transceiver of `kind`."""
        of_kind = [t for t in self.pc.getTransceivers() if t.kind == kind]
        return of_kind[seat].receiver.track

    def receiver(self, seat: int, kind: str) -> Any:
        of_kind = [t for t in self.pc.getTransceivers() if t.kind == kind]
        return of_kind[seat].receiver

    async def packets_received(self, seat: int, kind: str) -> int:
        stats = await self.receiver(seat, kind).getStats()
        return sum(s.packetsReceived for s in stats.values() if getattr(s, "type", "") == "inbound-rtp")

    async def close(self) -> None:
        await self.pc.close()


PeerT = TypeVar("PeerT", Publisher, Viewer)
NewRelay = Callable[..., RoomRelay]  # the `new_relay` fixture (tests/media/conftest.py)


class Peers:
    """Client peers of one test (the `peers` fixture), all closed at the end."""

    def __init__(self) -> None:
        self.pcs: list[Publisher | Viewer] = []

    def add(self, peer: PeerT) -> PeerT:
        self.pcs.append(peer)
        return peer

    async def close(self) -> None:
        for peer in self.pcs:
            await peer.close()


async def next_frame(track: MediaStreamTrack, within: float = 5.0) -> av.frame.Frame:
    frame: av.frame.Frame = await asyncio.wait_for(track.recv(), within)
    return frame


async def luma_of(track: MediaStreamTrack, frames: int = 3, within: float = 6.0) -> float:
    """Mean luma of the `frames`-th decoded frame (skips the first ones)."""
    frame = None
    for _ in range(frames):
        frame = await next_frame(track, within)
    assert isinstance(frame, av.VideoFrame)
    return mean_luma(frame)


def token_of(room: Room, index: int) -> str:
    """The seat's WHIP bearer token ("" if the seat is empty)."""
    return Seat.objects.get(room=room, index=index).publish_token or ""


async def publish_via_whip(client: AsyncClient, room: Room, publisher: Publisher) -> Any:
    """Publish on the publisher's seat through the room's WHIP view, with the seat's bearer token;
    returns the 201 response (its `Location` ends the session)."""
    token = await database_sync_to_async(token_of)(room, publisher.seat)
    published = await client.post(
        f"/rooms/{room.slug}/whip",
        data=await publisher.offer(),
        content_type=SDP,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert published.status_code == 201, published.content
    await publisher.accept(published.content.decode())
    return published


def post_whip(url: str, token: str, sdp: str) -> str:
    """POST a WHIP offer over real HTTP (a server in another process, blocking: run it in a thread);
    returns the answer of its 201."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=sdp.encode(),
        method="POST",
        headers={"Content-Type": SDP, "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        assert response.status == 201
        return response.read().decode()
