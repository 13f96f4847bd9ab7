"""Codec helpers for the pass-through relay: key-frame detection and RTP packing of encoded frames.

Packing pre-encoded frames is all a relay-side sender needs, so relay senders get one of these
packers instead of aiortc's encoders (whose constructors would allocate a libvpx / libopus
context per viewer track even when they only ever `pack()`).
"""

from __future__ import annotations

import random
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


class Packer(Protocol):
    """What aiortc's RTCRtpSender calls for a non-`Frame` item: `pack(packet) -> (payloads, rtp_ts)`."""

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]: ...


class Vp8Packer:
    """VP8 RTP payloads (RFC 7741 descriptor with a 15-bit picture id) for one outgoing stream."""

    def __init__(self) -> None:
        self.picture_id = random.randrange(1 << 15)  # noqa: S311 - not security relevant
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]:
        payloads: list[bytes] = Vp8Encoder._packetize(bytes(packet), self.picture_id)
        self.picture_id = (self.picture_id + 1) % (1 << 15)
        self.frames += 1
        return payloads, timestamp_of(packet, VIDEO_CLOCK_RATE)


class OpusPacker:
    """Opus RTP payload = the Opus packet itself (RFC 7587)."""

    def __init__(self) -> None:
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]:
        self.frames += 1
        return [bytes(packet)], timestamp_of(packet, AUDIO_CLOCK_RATE)
