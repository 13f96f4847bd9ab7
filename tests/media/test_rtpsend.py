"""The relay's lean RTP send loop writes the bytes aiortc would, and keeps a history aiortc's
NACK handling (and RTX) can retransmit from."""

from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket, wrap_rtx

from media.rtpsend import Extensions, build

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def extensions_map(ids: dict[str, int]) -> HeaderExtensionsMap:
    parameters = RTCRtpParameters(
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=i, uri=uri) for uri, i in ids.items()]
    )
    configured = HeaderExtensionsMap()
    configured.configure(parameters)
    return configured


def aiortc_bytes(
    configured: HeaderExtensionsMap,
    *,
    seq: int,
    ts: int,
    marker: int,
    pt: int,
    ssrc: int,
    payload: bytes,
    mid: str,
    ast: int,
) -> bytes:
    packet = RtpPacket(payload_type=pt, marker=marker, sequence_number=seq, timestamp=ts, ssrc=ssrc, payload=payload)
    packet.extensions.mid = mid
    packet.extensions.abs_send_time = ast
    return packet.serialize(configured)


@pytest.mark.parametrize(
    "ids",
    [
        {MID: 4, ABS_SEND_TIME: 2},  # what Chromium offers
        {MID: 1},
        {ABS_SEND_TIME: 3},
        {},
        {MID: 15, ABS_SEND_TIME: 2},  # an id over 14: the two-byte form
    ],
)
@pytest.mark.parametrize("mid", ["0", "7", "a-long-media-id-17"])
def test_packets_are_byte_for_byte_what_aiortc_sends(ids: dict[str, int], mid: str) -> None:
    configured = extensions_map(ids)
    extensions = Extensions(mid_id=ids.get(MID), mid=mid, abs_send_time_id=ids.get(ABS_SEND_TIME))
    for seq, ts, marker, payload, ast in [
        (0, 0, 0, b"\x10" * 1200, 0),
        (32767, 90_000, 1, b"x", 0xFFFFFF),
        (65535, 0xFFFFFFFF, 1, b"\x00" * 3, 123456),
    ]:
        ast_or_none = ast if ids.get(ABS_SEND_TIME) else None
        block = extensions.block(ast_or_none)
        first = 0x90 if block else 0x80
        sent = build(
            (first, 96 | (marker << 7), seq, ts, 0xDEADBEEF),
            block,
            payload,
            mid=extensions.mid,
            abs_send_time=ast_or_none,
        )
        expected = aiortc_bytes(
            configured, seq=seq, ts=ts, marker=marker, pt=96, ssrc=0xDEADBEEF, payload=payload, mid=mid, ast=ast
        )
        assert sent.data == expected
        parsed = RtpPacket.parse(sent.data, configured)
        assert (parsed.sequence_number, parsed.timestamp, parsed.marker, parsed.payload) == (seq, ts, marker, payload)


def test_the_history_retransmits_as_sent_and_wraps_into_rtx() -> None:
    ids = {MID: 4, ABS_SEND_TIME: 2}
    configured = extensions_map(ids)
    extensions = Extensions(mid_id=4, mid="1", abs_send_time_id=2)
    sent = build((0x90, 96 | 0x80, 1000, 3000, 42), extensions.block(777), b"frame", mid="1", abs_send_time=777)

    assert sent.serialize(configured) == sent.data  # a NACK without RTX resends the same bytes
    rtx = wrap_rtx(sent, payload_type=97, sequence_number=5, ssrc=43)  # type: ignore[arg-type]
    parsed = RtpPacket.parse(rtx.serialize(configured), configured)
    assert (parsed.payload_type, parsed.sequence_number, parsed.ssrc, parsed.marker) == (97, 5, 43, 1)
    assert parsed.payload == b"\x03\xe8frame"  # the original sequence number, then the payload
    assert parsed.extensions == HeaderExtensions(mid="1", abs_send_time=777)
