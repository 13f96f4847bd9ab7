"""H.264 for the pass-through relay: key-frame detection and RTP packing of encoded access units.

aiortc's receiver depayloads H.264 (RFC 6184, packetization-mode 1) into Annex B access units
(start codes, then NAL units). A key frame here is an access unit with an IDR slice; FFmpeg's WHIP
muxer and browsers put SPS and PPS in front of every IDR, so a viewer can start decoding there.
"""

from __future__ import annotations

from typing import Any

import av
from aiortc.codecs.h264 import H264Encoder

from media.vp8 import VIDEO_CLOCK_RATE, Packed, shared_packing, timestamp_of

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
START = b"\x00\x00\x00\x01"


def nal_types(data: bytes) -> list[int]:
    """NAL unit types of an Annex B access unit, in order."""
    return [nal[0] & 0x1F for nal in H264Encoder._split_bitstream(data) if nal]


def is_h264_keyframe(data: bytes) -> bool:
    """True if the access unit holds an IDR slice (a decoder can start here)."""
    return NAL_IDR in nal_types(data)


class ParameterSets:
    """One publisher's latest SPS and PPS, put in front of an IDR that comes without them.

    Browsers and FFmpeg repeat SPS/PPS before every IDR; an encoder that sends them once (at the
    start, or out of band) would leave every viewer who joins later with an undecodable key frame.
    """

    def __init__(self) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    def complete(self, data: bytes) -> bytes:
        """`data` (an Annex B access unit), with the remembered SPS/PPS in front if it is an IDR
        without them."""
        nals = [nal for nal in H264Encoder._split_bitstream(data) if nal]
        types = {nal[0] & 0x1F for nal in nals}
        for nal in nals:
            if nal[0] & 0x1F == NAL_SPS:
                self.sps = nal
            elif nal[0] & 0x1F == NAL_PPS:
                self.pps = nal
        if NAL_IDR not in types or (NAL_SPS in types and NAL_PPS in types):
            return data
        if self.sps is None or self.pps is None:
            return data  # nothing to add yet: the decoder waits for an IDR that has them
        prefix = b""
        if NAL_SPS not in types:
            prefix += START + self.sps
        if NAL_PPS not in types:
            prefix += START + self.pps
        return prefix + data


class H264Packer:
    """RTP payloads (single NAL / STAP-A / FU-A, packetization-mode 1) for one outgoing stream."""

    def __init__(self) -> None:
        self.frames = 0

    def pack(self, packet: av.Packet[Any]) -> Packed:
        # H.264 payloads depend on the frame alone (no per-stream picture id, unlike VP8).
        self.frames += 1
        return shared_packing(
            packet,
            lambda: (
                H264Encoder._packetize(H264Encoder._split_bitstream(bytes(packet))),
                timestamp_of(packet, VIDEO_CLOCK_RATE),
            ),
        )
