"""H.264 publishers and viewers with real aiortc peers: frames pass through where the codecs match,
and are transcoded once per seat (never per viewer) where they do not."""

from __future__ import annotations

import asyncio
import re

import av

from media.relay import RoomRelay
from media.transcode import Transcoder
from tests.media.peers import Peers, Publisher, Viewer, luma_of, next_frame, seat_level, wait_for

TOLERANCE = 12
H264, VP8 = "video/H264", "video/VP8"


def video_codec_of(answer: str) -> str:
    video = next(section for section in answer.split("\r\nm=")[1:] if section.startswith("video"))
    match = re.search(r"^a=rtpmap:\d+ ([^/]+)/", video, re.MULTILINE)
    assert match
    return match.group(1)


def transcoders(relay: RoomRelay, seat: int) -> dict[str, Transcoder]:
    return relay._seats[seat].transcoders


async def test_an_h264_seat_reaches_h264_and_vp8_viewers_with_one_transcode(relay: RoomRelay, peers: Peers) -> None:
    publisher = peers.add(Publisher(2, video_codec=H264))
    answer = await publisher.start(relay)
    assert video_codec_of(answer) == "H264"

    h264_viewers = [peers.add(Viewer(4, video_codec=H264)) for _ in range(2)]
    vp8_viewers = [peers.add(Viewer(4, video_codec=VP8)) for _ in range(3)]
    for viewer in h264_viewers + vp8_viewers:
        await viewer.start(relay)
    assert {video_codec_of(v.answer) for v in h264_viewers} == {"H264"}
    assert {video_codec_of(v.answer) for v in vp8_viewers} == {"VP8"}

    levels = await asyncio.gather(
        *(luma_of(v.track(2, "video"), frames=5, within=10) for v in h264_viewers + vp8_viewers)
    )
    assert all(abs(level - seat_level(2)) < TOLERANCE for level in levels), levels
    for viewer in h264_viewers + vp8_viewers:
        assert isinstance(await next_frame(viewer.track(2, "audio")), av.AudioFrame)

    # three VP8 viewers, one transcoder; the H.264 viewers get the publisher's own frames
    assert list(transcoders(relay, 2)) == ["vp8"]
    transcoder = transcoders(relay, 2)["vp8"]
    assert transcoder.source == "h264"
    assert transcoder.frames_out > 0

    # the VP8 viewers leave: the transcoder goes with them
    for viewer in vp8_viewers:
        assert viewer.session_id is not None
        assert await relay.end_session(viewer.session_id)
    await wait_for(lambda: not transcoders(relay, 2), within=5, what="transcoder stopped")
    transcoder.join(timeout=5)


async def test_a_vp8_seat_reaches_an_h264_only_player(relay: RoomRelay, peers: Peers) -> None:
    publisher = peers.add(Publisher(0, video_codec=VP8))
    player = peers.add(Viewer(1, video_codec=H264))
    await publisher.start(relay)
    await player.start(relay)
    assert video_codec_of(player.answer) == "H264"
    assert abs(await luma_of(player.track(0, "video"), frames=5, within=10) - seat_level(0)) < TOLERANCE
    assert list(transcoders(relay, 0)) == ["h264"]


async def test_a_publisher_change_of_codec_keeps_every_viewer_watching(relay: RoomRelay, peers: Peers) -> None:
    """A seat goes from a browser's VP8 to FFmpeg's H.264: the same viewers, no renegotiation."""
    vp8_viewer, h264_viewer = peers.add(Viewer(4, video_codec=VP8)), peers.add(Viewer(4, video_codec=H264))
    first = peers.add(Publisher(1, video_codec=VP8))
    await vp8_viewer.start(relay)
    await h264_viewer.start(relay)
    await first.start(relay)
    for viewer in (vp8_viewer, h264_viewer):
        assert abs(await luma_of(viewer.track(1, "video"), frames=3, within=10) - seat_level(1)) < TOLERANCE
    assert first.session_id is not None
    await relay.end_session(first.session_id)
    assert not transcoders(relay, 1)

    second = peers.add(Publisher(1, video_codec=H264))
    await second.start(relay)
    await wait_for(lambda: relay.is_publishing(1), what="second publisher")
    for viewer in (vp8_viewer, h264_viewer):
        assert abs(await luma_of(viewer.track(1, "video"), frames=8, within=10) - seat_level(1)) < TOLERANCE
    assert list(transcoders(relay, 1)) == ["vp8"]
    assert transcoders(relay, 1)["vp8"].source == "h264"


def _h264_frames(count: int) -> list[bytes]:
    from fractions import Fraction

    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, 30), 30
    encoder.options = {"profile": "baseline", "tune": "zerolatency", "preset": "ultrafast"}
    frames = []
    for index in range(count + 1):
        picture = None
        if index < count:
            picture = av.VideoFrame(320, 240, "yuv420p")
            for plane, value in zip(picture.planes, (60 + index, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            picture.pts = index
        frames.extend(bytes(packet) for packet in encoder.encode(picture))
    return frames


async def test_a_transcoder_keeps_up_and_does_not_turn_every_frame_into_a_key_frame() -> None:
    """Viewers asking on every frame (each joining viewer does, until its key frame comes) get at
    most one key frame per MIN_KEYFRAME_GAP; every fed frame comes out, in order."""
    from media.h264 import is_h264_keyframe
    from media.transcode import MIN_KEYFRAME_GAP

    out: list[tuple[int, bool]] = []
    transcoder = Transcoder("h264", "vp8", emit=lambda p, key: out.append((p.pts, key)), need_keyframe=lambda: None)
    frames = _h264_frames(45)
    started = asyncio.get_running_loop().time()
    try:
        for index, data in enumerate(frames):
            transcoder.force_keyframe()
            transcoder.feed(data, index * 3000, is_h264_keyframe(data))
            await asyncio.sleep(1 / 30)
        await wait_for(lambda: len(out) == len(frames), within=5, what="every frame transcoded")
    finally:
        await transcoder.stopped()
    elapsed = asyncio.get_running_loop().time() - started
    assert [pts for pts, _ in out] == [index * 3000 for index in range(len(frames))]
    assert out[0][1]  # a VP8 stream starts with a key frame
    assert sum(key for _, key in out) <= elapsed / MIN_KEYFRAME_GAP + 1
    assert transcoder.dropped == 0


async def test_a_transcoder_behind_skips_encoding_not_decoding() -> None:
    """A burst (the thread fell behind): every frame is decoded, the backlog is not encoded, nothing
    is dropped, and what comes out is in order, starting with a key frame."""
    from media.h264 import is_h264_keyframe

    out: list[tuple[int, bool]] = []
    transcoder = Transcoder("h264", "vp8", emit=lambda p, key: out.append((p.pts, key)), need_keyframe=lambda: None)
    frames = _h264_frames(12)
    try:
        for index, data in enumerate(frames):
            transcoder.feed(data, index * 3000, is_h264_keyframe(data))
        await wait_for(lambda: len(out) + transcoder.skipped == len(frames), within=5, what="the burst worked off")
    finally:
        await transcoder.stopped()
    assert transcoder.dropped == 0
    assert transcoder.skipped > 0
    assert out[0] == (0, True)
    assert [pts for pts, _ in out] == sorted(pts for pts, _ in out)
