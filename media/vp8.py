"""Codec helpers for the pass-through relay: key-frame detection and RTP packing of encoded frames.

Packing pre-encoded frames is all a relay-side sender needs, so relay senders get one of these
packers instead of aiortc's encoders (whose constructors would allocate a libvpx / libopus
context per viewer track even when they only ever `pack()`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Protocol

import av
from aiortc.codecs.vpx import Vp8Encoder

VIDEO_CLOCK_RATE = 90_000
AUDIO_CLOCK_RATE = 48_000
VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_TIME_BASE = Fraction(1, AUDIO_CLOCK_RATE)


def is_vp8_keyframe(data: bytes) -> bool:
    """True if `data` (a depayloaded VP8 frame) starts a key frame: P bit (bit 0 of byte 0) is 0."""
    return len(data) > 0 and (data[0] & 0x01) == 0


def timestamp_of(packet: av.Packet[Any], clock_rate: int) -> int:
    pts: int | None = packet.pts
    if pts is None:
        return 0
    time_base: Fraction = packet.time_base
    return int(pts * time_base * clock_rate)


Packed = tuple[list[bytes], int]  # RTP payloads and the RTP timestamp of one frame


def shared_packing(packet: av.Packet[Any], pack: Callable[[], Packed]) -> Packed:
    """The frame's payloads and timestamp, packed once for every viewer of the seat: the first
    viewer's sender packs the shared packet, the others reuse what it attached (`opaque`)."""
    packed = packet.opaque
    if not isinstance(packed, tuple):
        packed = packet.opaque = pack()
    return packed


class Packer(Protocol):
    """What aiortc's RTCRtpSender calls for a non-`Frame` item: `pack(packet) -> (payloads, rtp_ts)`."""

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]: ...


class Vp8Packetizer:
    """VP8 RTP payloads (RFC 7741 descriptor with a 15-bit picture id) for one seat's outgoing
    video: the relay packetizes each frame once, and every viewer's sender sends those payloads
    (the picture id counts the seat's frames, so it is the same, consecutive, for every viewer)."""

    def __init__(self) -> None:
        self.picture_id = random.randrange(1 << 15)  # noqa: S311 - not security relevant

    def packetize(self, data: bytes) -> list[bytes]:
        payloads: list[bytes] = Vp8Encoder._packetize(data, self.picture_id)
        self.picture_id = (self.picture_id + 1) % (1 << 15)
        return payloads

    def share(self, packet: av.Packet[Any], data: bytes) -> None:
        """Attach the frame's payloads and RTP timestamp to the packet every viewer slot of the
        seat receives."""
        packet.opaque = (self.packetize(data), timestamp_of(packet, VIDEO_CLOCK_RATE))


class Vp8Packer:
    """Packs VP8 for one outgoing stream: the payloads the relay attached to the packet (made once
    per seat frame), or its own if none were attached."""

    def __init__(self) -> None:
        self.own = Vp8Packetizer()
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]:
        self.frames += 1
        shared = packet.opaque
        if isinstance(shared, tuple):
            return shared
        return self.own.packetize(bytes(packet)), timestamp_of(packet, VIDEO_CLOCK_RATE)


class OpusPacker:
    """Opus RTP payload = the Opus packet itself (RFC 7587)."""

    def __init__(self) -> None:
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> Packed:
        self.frames += 1
        return shared_packing(packet, lambda: ([bytes(packet)], timestamp_of(packet, AUDIO_CLOCK_RATE)))
