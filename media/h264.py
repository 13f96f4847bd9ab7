"""H.264 for the pass-through relay: key-frame detection and RTP packing of encoded access units.

aiortc's receiver depayloads H.264 (RFC 6184, packetization-mode 1) into Annex B access units
(start codes, then NAL units). A key frame here is an access unit with an IDR slice; FFmpeg's WHIP
muxer and browsers put SPS and PPS in front of every IDR, so a viewer can start decoding there.
"""

from __future__ import annotations

from typing import Any

import av
from aiortc.codecs.h264 import H264Encoder

from media.vp8 import VIDEO_CLOCK_RATE, timestamp_of

NAL_IDR = 5
NAL_SPS = 7


def nal_types(data: bytes) -> list[int]:
    """NAL unit types of an Annex B access unit, in order."""
    return [nal[0] & 0x1F for nal in H264Encoder._split_bitstream(data) if nal]


def is_h264_keyframe(data: bytes) -> bool:
    """True if the access unit holds an IDR slice (a decoder can start here)."""
    return NAL_IDR in nal_types(data)


class H264Packer:
    """RTP payloads (single NAL / STAP-A / FU-A, packetization-mode 1) for one outgoing stream."""

    def __init__(self) -> None:
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> tuple[list[bytes], int]:
        payloads: list[bytes] = H264Encoder._packetize(H264Encoder._split_bitstream(bytes(packet)))
        self.frames += 1
        return payloads, timestamp_of(packet, VIDEO_CLOCK_RATE)
