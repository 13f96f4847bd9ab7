"""A lean RTP send loop for the relay's viewer senders.

aiortc's `RTCRtpSender._run_rtp` builds an `RtpPacket` object per packet, sets its header
extensions through `HeaderExtensionsMap`, reads the NTP clock for each one and serialises it in
Python: a third of the relay's CPU with dozens of viewers. A relay sender only sends frames
that were packetized once per seat (media.vp8 / media.h264), so this loop does the same work per
frame instead of per packet where it can: one clock read and one header-extension block per
frame, then per packet one `struct.pack` of the fixed header and a concatenation. The bytes on
the wire are the ones aiortc would send (a test compares them with `RtpPacket.serialize`).

Everything else of the sender stays aiortc's: `_next_encoded_frame` (the packer), SRTP and ICE
through its transport, RTCP sender reports from the counters kept here, and NACK retransmission
(and RTX) from the history kept here, whose entries serialise to the bytes that were sent.

`install(sender)` must run before the sender starts (before negotiation completes).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import traceback
from typing import Any

from aiortc import clock
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, pack_header_extensions
from aiortc.utils import random32

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHLL")
_EXTENSION_HEADER = struct.Struct("!HH")
_PRIVATE = "_RTCRtpSender__"


class SentPacket:
    """What the send history keeps of a packet: enough for aiortc's `_retransmit` (and its
    `wrap_rtx`), and its bytes as they were sent."""

    __slots__ = (
        "abs_send_time",
        "data",
        "marker",
        "mid",
        "payload",
        "payload_type",
        "sequence_number",
        "ssrc",
        "timestamp",
    )

    csrc: list[int] = []
    padding_size = 0
    version = 2

    def __init__(
        self,
        data: bytes,
        payload: bytes,
        *,
        header: tuple[int, int, int, int, int],
        mid: str | None,
        abs_send_time: int | None,
    ) -> None:
        self.data = data
        self.payload = payload
        _first, second, self.sequence_number, self.timestamp, self.ssrc = header
        self.marker = second >> 7
        self.payload_type = second & 0x7F
        self.mid = mid
        self.abs_send_time = abs_send_time

    @property
    def extensions(self) -> HeaderExtensions:
        return HeaderExtensions(mid=self.mid, abs_send_time=self.abs_send_time)

    def serialize(self, extensions_map: Any = None) -> bytes:
        return self.data


class Extensions:
    """The header-extension block of a sender's packets, as aiortc writes it: the mid (fixed) and
    abs-send-time (per frame), when negotiated."""

    def __init__(self, *, mid_id: int | None, mid: str | None, abs_send_time_id: int | None) -> None:
        self.mid = mid if mid_id and mid is not None else None
        self._mid = [(mid_id, mid.encode())] if mid_id and mid is not None else []
        self.abs_send_time_id = abs_send_time_id or 0

    def block(self, abs_send_time: int | None) -> bytes:
        elements = list(self._mid)
        if self.abs_send_time_id and abs_send_time is not None:
            elements.append((self.abs_send_time_id, abs_send_time.to_bytes(3, "big")))
        profile, value = pack_header_extensions(elements)
        return _EXTENSION_HEADER.pack(profile, len(value) >> 2) + value if value else b""


def build(
    header: tuple[int, int, int, int, int], block: bytes, payload: bytes, *, mid: str | None, abs_send_time: int | None
) -> SentPacket:
    """One packet: `header` is (first byte, marker|payload type, sequence number, timestamp,
    ssrc), `block` the frame's header-extension block (Extensions.block)."""
    return SentPacket(
        _HEADER.pack(*header) + block + payload, payload, header=header, mid=mid, abs_send_time=abs_send_time
    )


def install(sender: Any) -> None:
    """Make `sender` run `run_rtp` instead of aiortc's loop once it starts."""
    sender._run_rtp = lambda codec: run_rtp(sender, codec)


async def run_rtp(sender: Any, codec: Any) -> None:
    """aiortc's `RTCRtpSender._run_rtp`, per frame where it can be (see the module docstring)."""
    getattr(sender, _PRIVATE + "rtp_started").set()
    ids = getattr(sender, _PRIVATE + "rtp_header_extensions_map")._HeaderExtensionsMap__ids
    extensions = Extensions(mid_id=ids.mid, mid=getattr(sender, _PRIVATE + "mid"), abs_send_time_id=ids.abs_send_time)
    history: dict[int, Any] = getattr(sender, _PRIVATE + "rtp_history")
    transport = sender.transport
    payload_type, ssrc = codec.payloadType, sender._ssrc
    sequence_number = random_sequence_number()
    timestamp_origin = random32()
    octets = packets = 0
    try:
        while True:
            if not getattr(sender, _PRIVATE + "track"):
                await asyncio.sleep(0.02)
                continue
            frame = await sender._next_encoded_frame(codec)
            if frame is None:
                continue
            timestamp = (timestamp_origin + frame.timestamp) & 0xFFFFFFFF
            ntp = clock.current_ntp_time()
            abs_send_time = (ntp >> 14) & 0x00FFFFFF if extensions.abs_send_time_id else None
            block = extensions.block(abs_send_time)
            first = 0x90 if block else 0x80
            last = len(frame.payloads) - 1
            for i, payload in enumerate(frame.payloads):
                header = (first, payload_type | (0x80 if i == last else 0), sequence_number, timestamp, ssrc)
                sent = build(header, block, payload, mid=extensions.mid, abs_send_time=abs_send_time)
                history[sequence_number % RTP_HISTORY_SIZE] = sent
                await transport._send_rtp(sent.data)
                octets += len(payload)
                packets += 1
                sequence_number = (sequence_number + 1) & 0xFFFF
            # What aiortc's RTCP sender reports read.
            setattr(sender, _PRIVATE + "ntp_timestamp", ntp)
            setattr(sender, _PRIVATE + "rtp_timestamp", timestamp)
            setattr(sender, _PRIVATE + "octet_count", octets)
            setattr(sender, _PRIVATE + "packet_count", packets)
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        # aiortc's loop must set rtp_exited whatever happens, or RTCRtpSender.stop() hangs.
        logger.warning("relay sender failed: %s", traceback.format_exc())
    track = getattr(sender, _PRIVATE + "track")
    if track:
        track.stop()
        setattr(sender, _PRIVATE + "track", None)
    setattr(sender, _PRIVATE + "encoder", None)
    getattr(sender, _PRIVATE + "rtp_exited").set()
