"""Unit tests of the pass-through building blocks (no network)."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av

from media.h264 import H264Packer
from media.passthrough import SlotTrack
from media.vp8 import OpusPacker, Vp8Packer, Vp8Packetizer, is_vp8_keyframe

KEY = b"\x10\x02\x00\x9d\x01\x2a"  # P bit 0
DELTA = b"\x31\x02\x00"  # P bit 1


def packet(data: bytes, pts: int) -> av.Packet:
    p = av.Packet(data)
    p.pts = pts
    p.time_base = Fraction(1, 90000)
    return p


def test_keyframe_bit() -> None:
    assert is_vp8_keyframe(KEY)
    assert not is_vp8_keyframe(DELTA)
    assert not is_vp8_keyframe(b"")


def test_packers() -> None:
    payloads, ts = Vp8Packer().pack(packet(KEY * 500, 3000))
    assert ts == 3000
    assert len(payloads) > 1
    assert all(len(p) <= 1300 for p in payloads)
    audio = av.Packet(b"opus")
    audio.pts = 960
    audio.time_base = Fraction(1, 48000)
    assert OpusPacker().pack(audio) == ([b"opus"], 960)


def picture_id(payload: bytes) -> int:
    """The 15-bit picture id of a VP8 payload descriptor (X, I and M bits set, RFC 7741)."""
    assert payload[0] & 0x80
    assert payload[1] & 0x80
    assert payload[2] & 0x80
    return ((payload[2] & 0x7F) << 8) | payload[3]


def test_a_seats_vp8_frame_is_packetized_once_for_every_viewer() -> None:
    seat = Vp8Packetizer()
    viewers = [Vp8Packer(), Vp8Packer(), Vp8Packer()]
    ids = []
    for n, data in enumerate([KEY * 500, DELTA * 400, DELTA * 10]):
        shared = packet(data, 3000 * n)
        seat.share(shared, data)
        packed = [viewer.pack(shared) for viewer in viewers]
        assert all(payloads is packed[0][0] for payloads, _ts in packed)  # the same list, not a copy
        assert {ts for _payloads, ts in packed} == {3000 * n}
        ids.append(picture_id(packed[0][0][0]))
    # One picture-id sequence per seat: consecutive for every viewer, whoever packs first.
    assert ids == [(ids[0] + n) % (1 << 15) for n in range(3)]


def test_a_packet_without_shared_payloads_is_packed_by_its_stream() -> None:
    own = Vp8Packer()
    first, _ = own.pack(packet(KEY * 10, 0))
    second, _ = own.pack(packet(DELTA * 10, 3000))
    assert picture_id(second[0]) == (picture_id(first[0]) + 1) % (1 << 15)


def test_h264_payloads_are_made_by_the_first_viewer_and_reused() -> None:
    frame = b"\x00\x00\x00\x01\x67" + b"\x42" * 20 + b"\x00\x00\x00\x01\x65" + b"\x88" * 3000
    shared = packet(frame, 0)
    first, _ = H264Packer().pack(shared)
    again, _ = H264Packer().pack(shared)
    assert again is first
    assert len(first) > 1


async def test_slot_is_gated_bounded_and_asks_for_keyframes() -> None:
    asked: list[int] = []
    slot = SlotTrack("video", 2, need_keyframe=asked.append, max_queued=10)
    slot.push(packet(KEY, 0), True)
    assert slot.queued() == 0  # inactive (nobody pulls yet): dropped silently
    assert asked == []

    reader = asyncio.ensure_future(slot.recv())  # the sender starts pulling
    await asyncio.sleep(0)
    assert slot.active
    assert asked == [2]
    slot.push(packet(DELTA, 3000), False)
    assert slot.gated
    assert asked == [2, 2]
    slot.push(packet(KEY, 6000), True)
    assert (await reader).pts == 6000
    assert not slot.gated

    # a viewer that stops pulling: the queue never exceeds its bound
    for i in range(100):
        slot.push(packet(DELTA, 9000 + i * 3000), False)
        assert slot.queued() <= 10
    assert slot.overflows == 1
    assert slot.gated  # overflow drops the backlog and waits for the next key frame
    slot.push(packet(KEY, 1_000_000), True)
    assert slot.queued() == 1
    assert (await slot.recv()).pts == 1_000_000

    slot.stop()
    assert slot.readyState == "ended"


async def test_audio_slot_is_never_gated() -> None:
    slot = SlotTrack("audio", 0, need_keyframe=lambda seat: None, max_queued=5)
    slot.active = True
    for i in range(12):
        slot.push(packet(b"o", i * 960), False)
    assert 0 < slot.queued() <= 5
    assert not slot.gated


SPS = b"\x00\x00\x00\x01\x67\x42\xc0\x1e\xda"
PPS = b"\x00\x00\x00\x01\x68\xce\x3c\x80"
IDR = b"\x00\x00\x01\x65" + b"\x88" * 3000  # larger than one RTP payload
NON_IDR = b"\x00\x00\x00\x01\x41\x9a\x02"


def test_h264_keyframe_is_an_access_unit_with_an_idr_slice() -> None:
    from media.h264 import is_h264_keyframe, nal_types

    assert nal_types(SPS + PPS + IDR) == [7, 8, 5]
    assert is_h264_keyframe(SPS + PPS + IDR)
    assert not is_h264_keyframe(NON_IDR)
    assert not is_h264_keyframe(b"")


def test_h264_packer_aggregates_small_nal_units_and_fragments_large_ones() -> None:
    from media.h264 import H264Packer

    payloads, ts = H264Packer().pack(packet(SPS + PPS + IDR, 6000))
    assert ts == 6000
    assert payloads[0][0] & 0x1F == 24  # STAP-A: SPS + PPS together
    fragments = payloads[1:]
    assert len(fragments) > 1
    assert all(p[0] & 0x1F == 28 for p in fragments)  # FU-A
    assert fragments[0][1] & 0x80  # start bit
    assert fragments[-1][1] & 0x40  # end bit
    assert all(len(p) <= 1300 for p in payloads)


def test_an_idr_without_parameter_sets_gets_the_publishers_last_ones() -> None:
    from media.h264 import ParameterSets, nal_types

    sets = ParameterSets()
    assert sets.complete(IDR) == IDR  # none seen yet: nothing to add
    assert sets.complete(SPS + PPS + IDR) == SPS + PPS + IDR
    assert sets.complete(NON_IDR) == NON_IDR
    completed = sets.complete(IDR)
    assert nal_types(completed) == [7, 8, 5]
    assert completed.endswith(IDR)
