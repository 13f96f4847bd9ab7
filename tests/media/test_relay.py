"""The media relay core with real aiortc peers over loopback (no mocks, no Django)."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc import rtcrtpreceiver as aiortc_receiver
from aiortc import rtcrtpsender as aiortc_sender

import media.relay as relay_module
from media.passthrough import FrameSink
from media.relay import BadOffer, Relays, RoomRelay, SeatBusy
from media.vp8 import OpusPacker, Vp8Packer
from tests.media.peers import NewRelay, Peers, Publisher, Viewer, config, luma_of, next_frame, seat_level, wait_for

TOLERANCE = 12  # luma units; seats are 50 apart


def server_pcs(relay: RoomRelay) -> list[RTCPeerConnection]:
    return [s.pc for s in relay._sessions.values()]


@pytest.mark.parametrize("video_first", [False, True])
async def test_four_pair_viewer_gets_each_seat_in_its_slot(relay: RoomRelay, peers: Peers, video_first: bool) -> None:
    """Seats 0 and 2 publish; slot k of a 4-pair viewer shows seat k's picture (not swapped) and audio."""
    await peers.add(Publisher(0)).start(relay)
    await peers.add(Publisher(2)).start(relay)
    viewer = peers.add(Viewer(4, video_first=video_first))
    await viewer.start(relay)

    assert abs(await luma_of(viewer.track(0, "video")) - seat_level(0)) < TOLERANCE
    assert abs(await luma_of(viewer.track(2, "video")) - seat_level(2)) < TOLERANCE
    for seat in (0, 2):
        frame = await next_frame(viewer.track(seat, "audio"))
        assert isinstance(frame, av.AudioFrame)
        assert frame.sample_rate == 48000
    # empty seats carry nothing (but their transceivers are there, waiting)
    assert await viewer.packets_received(1, "video") == 0
    assert await viewer.packets_received(3, "audio") == 0
    assert relay.is_publishing(0)
    assert relay.is_publishing(2)
    assert not relay.is_publishing(1)


async def test_plain_player_gets_seat_zero(relay: RoomRelay, peers: Peers) -> None:
    await peers.add(Publisher(1)).start(relay)  # seat 1 first, so "first publisher" would be wrong
    await peers.add(Publisher(0)).start(relay)
    player = peers.add(Viewer(1))
    await player.start(relay)
    assert abs(await luma_of(player.track(0, "video")) - seat_level(0)) < TOLERANCE
    assert isinstance(await next_frame(player.track(0, "audio")), av.AudioFrame)


async def test_seat_publishing_later_reaches_viewer_without_renegotiation(relay: RoomRelay, peers: Peers) -> None:
    viewer = peers.add(Viewer(4))
    answer = await viewer.start(relay)
    transceivers = viewer.pc.getTransceivers()
    await wait_for(lambda: viewer.pc.connectionState == "connected", what="viewer connected")

    await peers.add(Publisher(3)).start(relay)
    assert abs(await luma_of(viewer.track(3, "video")) - seat_level(3)) < TOLERANCE
    assert isinstance(await next_frame(viewer.track(3, "audio")), av.AudioFrame)
    # same negotiation: no new offer/answer, same transceivers
    assert viewer.pc.signalingState == "stable"
    assert viewer.pc.remoteDescription.sdp == answer
    assert viewer.pc.getTransceivers() == transceivers


async def test_publisher_leaving_and_returning_resumes_same_viewer(relay: RoomRelay, peers: Peers) -> None:
    first = peers.add(Publisher(1))
    await first.start(relay)
    viewer = peers.add(Viewer(4))
    await viewer.start(relay)
    track = viewer.track(1, "video")
    assert abs(await luma_of(track) - seat_level(1)) < TOLERANCE

    assert first.session_id is not None
    assert await relay.end_session(first.session_id)
    assert not relay.is_publishing(1)
    assert track.readyState == "live"  # the viewer's slot waits for the next publisher

    await peers.add(Publisher(1)).start(relay)
    await wait_for(lambda: relay.is_publishing(1), what="second publisher")
    # frames decoded from the new publisher arrive on the same track
    assert abs(await luma_of(track, frames=5) - seat_level(1)) < TOLERANCE


class FrameClock:
    """Consumes a viewer track continuously and records when each decoded frame arrived."""

    def __init__(self, track: Any) -> None:
        self.track = track
        self.times: list[float] = []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await self.track.recv()
            self.times.append(time.monotonic())

    def since(self, t: float) -> list[float]:
        return [x for x in self.times if x > t]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_mute_stops_forwarding_and_unmute_resumes_fast(relay: RoomRelay, peers: Peers) -> None:
    await peers.add(Publisher(0)).start(relay)
    viewer = peers.add(Viewer(1))
    await viewer.start(relay)
    video = FrameClock(viewer.track(0, "video"))
    audio = FrameClock(viewer.track(0, "audio"))
    try:
        await wait_for(lambda: len(video.times) >= 3, what="first video frames")

        relay.set_forwarding(0, video=False, audio=True)
        await asyncio.sleep(0.3)  # what was already in flight lands
        packets = await viewer.packets_received(0, "video")
        muted_at = time.monotonic()
        await asyncio.sleep(1.0)
        assert await viewer.packets_received(0, "video") == packets, "video packets reached a muted slot"
        assert video.since(muted_at) == []
        assert len(audio.since(muted_at)) > 20, "audio must keep flowing while only the camera is off"
        assert relay.is_publishing(0)  # the publisher keeps sending; the relay drops

        unmuted_at = time.monotonic()
        relay.set_forwarding(0, video=True, audio=True)
        await wait_for(lambda: bool(video.since(unmuted_at)), within=2.0, what="video after unmute")
        resumed_in = video.since(unmuted_at)[0] - unmuted_at
        assert resumed_in < 0.5, f"video resumed after {resumed_in:.3f}s"

        relay.set_forwarding(0, video=True, audio=False)
        await asyncio.sleep(0.3)
        audio_packets = await viewer.packets_received(0, "audio")
        await asyncio.sleep(0.6)
        assert await viewer.packets_received(0, "audio") == audio_packets
        relay.set_forwarding(0, video=True, audio=True)
        t = time.monotonic()
        await wait_for(lambda: bool(audio.since(t)), within=1.0, what="audio after unmute")
    finally:
        await video.stop()
        await audio.stop()


async def test_forwarding_state_survives_publisher_reconnect(relay: RoomRelay, peers: Peers) -> None:
    relay.set_forwarding(2, video=False, audio=True)
    first = peers.add(Publisher(2))
    await first.start(relay)
    assert first.session_id is not None
    await relay.end_session(first.session_id)
    await peers.add(Publisher(2)).start(relay)
    viewer = peers.add(Viewer(4))
    await viewer.start(relay)
    assert isinstance(await next_frame(viewer.track(2, "audio")), av.AudioFrame)
    await asyncio.sleep(0.5)
    assert await viewer.packets_received(2, "video") == 0
    assert relay.forwarding(2) == {"audio": True, "video": False}


def _msids(answer: str) -> list[tuple[str, str]]:
    sections = answer.split("\r\nm=")[1:]
    out = []
    for section in sections:
        kind = section.split(" ", 1)[0]
        match = re.search(r"^a=msid:(\S+) ", section, re.MULTILINE)
        assert match, section
        out.append((kind, match.group(1)))
    return out


@pytest.mark.parametrize("video_first", [False, True])
async def test_answer_msid_names_the_seat(relay: RoomRelay, peers: Peers, video_first: bool) -> None:
    viewer = peers.add(Viewer(4, video_first=video_first))
    answer = await viewer.start(relay)
    pair = ["video", "audio"] if video_first else ["audio", "video"]
    assert _msids(answer) == [(kind, f"seat-{seat}") for seat in range(4) for kind in pair]
    # and codecs are pinned: VP8 first (what a VP8-first offerer gets), H.264 (+rtx), and Opus only
    assert _codecs(answer) == {"VP8", "H264", "rtx", "opus"}
    assert _first_video_codec(answer) == "VP8"


def _codecs(answer: str) -> set[str]:
    return set(re.findall(r"^a=rtpmap:\d+ ([^/]+)/", answer, re.MULTILINE))


def _first_video_codec(answer: str) -> str:
    video = next(section for section in answer.split("\r\nm=")[1:] if section.startswith("video"))
    match = re.search(r"^a=rtpmap:\d+ ([^/]+)/", video, re.MULTILINE)
    assert match
    return match.group(1)


async def test_publish_answer_pins_vp8_h264_and_opus(relay: RoomRelay, peers: Peers) -> None:
    answer = await peers.add(Publisher(0)).start(relay)
    assert _codecs(answer) == {"VP8", "H264", "rtx", "opus"}
    assert _first_video_codec(answer) == "VP8"
    # H.264 only in packetization-mode 1
    assert "packetization-mode=0" not in answer


async def test_audio_only_publisher(relay: RoomRelay, peers: Peers) -> None:
    await peers.add(Publisher(1, video=False)).start(relay)
    viewer = peers.add(Viewer(4))
    await viewer.start(relay)
    assert isinstance(await next_frame(viewer.track(1, "audio")), av.AudioFrame)
    relay.request_keyframe(1)  # no video receiver: a no-op, not an error


async def _offer_with(video_codec: str | None, audio_codec: str | None) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(configuration=config())
    if audio_codec:
        t = pc.addTransceiver("audio", direction="sendonly")
        t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == audio_codec])
    if video_codec:
        t = pc.addTransceiver("video", direction="sendonly")
        t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == video_codec])
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


def _packetization_mode_0(sdp: str) -> str:
    """The offer of an H.264 encoder that sends one NAL unit per packet (not what aiortc speaks)."""
    return sdp.replace("packetization-mode=1", "packetization-mode=0")


def _unknown_video(sdp: str) -> str:
    """Every video codec renamed to one the relay does not have."""
    return re.sub(r"(a=rtpmap:\d+ )(VP8|H264)/", r"\1AV1X/", sdp)


async def test_bad_offers(relay: RoomRelay) -> None:
    with pytest.raises(BadOffer, match="SDP"):
        await relay.publish(0, "this is not sdp")
    with pytest.raises(BadOffer, match="SDP"):
        await relay.watch("")
    with pytest.raises(BadOffer, match="no audio or video"):
        await relay.publish(0, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")

    pc, h264_pcmu = await _offer_with("video/H264", "audio/PCMU")
    try:
        with pytest.raises(
            BadOffer, match=r"no Opus audio, and no VP8 or H.264 \(packetization-mode=1\) video codec offered"
        ):
            await relay.publish(0, _packetization_mode_0(h264_pcmu))
    finally:
        await pc.close()
    pc, h264_only = await _offer_with("video/H264", None)
    try:
        for offer in (_packetization_mode_0(h264_only), _unknown_video(h264_only)):
            with pytest.raises(BadOffer, match=r"no VP8 or H.264 \(packetization-mode=1\) video codec offered"):
                await relay.publish(0, offer)
            with pytest.raises(BadOffer, match=r"no VP8 or H.264 \(packetization-mode=1\) video codec offered"):
                await relay.watch(offer)
    finally:
        await pc.close()
    # a viewer offer used for publishing (recvonly) is refused too
    viewer = Viewer(1)
    try:
        await viewer.pc.setLocalDescription(await viewer.pc.createOffer())
        with pytest.raises(BadOffer, match="sendonly"):
            await relay.publish(0, viewer.pc.localDescription.sdp)
    finally:
        await viewer.close()
    assert relay.session_count() == 0
    assert not relay.is_publishing(0)


def _sections(answer: str) -> list[str]:
    return ["m=" + part for part in answer.split("\r\nm=")[1:]]


@pytest.mark.parametrize("role", ["publish", "watch"])
async def test_unusable_m_line_is_rejected_not_the_offer(relay: RoomRelay, role: str) -> None:
    """A video codec we do not relay (here H.264 in packetization-mode 0) + Opus audio: the video
    m-line is answered as rejected (port 0, inactive, out of BUNDLE), the audio is served."""
    pc = RTCPeerConnection(configuration=config())
    direction = "sendonly" if role == "publish" else "recvonly"
    try:
        t = pc.addTransceiver("video", direction=direction)
        t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"])
        pc.addTransceiver("audio", direction=direction)
        await pc.setLocalDescription(await pc.createOffer())
        offer = _packetization_mode_0(pc.localDescription.sdp)
        if role == "publish":
            _, answer = await relay.publish(1, offer)
        else:
            _, answer = await relay.watch(offer)
        video, audio = _sections(answer)
        assert video.startswith("m=video 0 UDP/TLS/RTP/SAVPF ")
        assert "a=inactive" in video
        assert "a=mid:0" in video
        assert audio.startswith("m=audio ")
        assert not audio.startswith("m=audio 0 ")
        assert "opus/48000/2" in audio
        bundle = next(line for line in answer.splitlines() if line.startswith("a=group:BUNDLE"))
        assert bundle.split()[1:] == ["1"]
        if role == "watch":
            assert "a=msid:seat-0 " in audio  # the first audio m-line is still seat 0
        assert relay.session_count() == 1
    finally:
        await pc.close()


async def test_second_publisher_on_a_seat_is_busy(relay: RoomRelay, peers: Peers) -> None:
    first = peers.add(Publisher(0))
    await first.start(relay)
    second = peers.add(Publisher(0))
    with pytest.raises(SeatBusy):
        await second.start(relay)
    assert relay.session_count() == 1
    # another seat is fine; replace=True takes the seat over
    await peers.add(Publisher(1)).start(relay)
    third = peers.add(Publisher(0))
    await third.start(relay, replace=True)
    assert first.session_id not in relay._sessions
    assert relay.session_count() == 2


async def test_sessions_are_closed_and_on_publishing_reports(new_relay: NewRelay, peers: Peers) -> None:
    events: list[tuple[int, bool]] = []

    async def on_publishing(seat: int, publishing: bool) -> None:
        events.append((seat, publishing))

    relay = new_relay(on_publishing=on_publishing)
    pub = peers.add(Publisher(2))
    await pub.start(relay)
    viewer = peers.add(Viewer(4))
    await viewer.start(relay)
    assert relay.session_count() == 2
    await wait_for(lambda: events == [(2, True)], what="on_publishing(2, True)")
    assert pub.session_id is not None
    assert viewer.session_id is not None

    assert await relay.end_session(pub.session_id)
    assert not await relay.end_session(pub.session_id)  # second DELETE: unknown
    await wait_for(lambda: events == [(2, True), (2, False)], what="on_publishing(2, False)")
    assert relay.session_count() == 1
    assert await relay.end_session(viewer.session_id)
    assert relay.session_count() == 0

    # close() ends whatever is left
    await peers.add(Publisher(0)).start(relay)
    last_viewer = peers.add(Viewer(1))
    await last_viewer.start(relay)
    await wait_for(lambda: (0, True) in events, what="on_publishing(0, True)")
    # (closing a peer still inside aiortc's connect task makes aiortc log an unretrieved
    # InvalidStateError from its own task; harmless, avoided here to keep the log clean)
    await wait_for(lambda: last_viewer.pc.connectionState == "connected", what="viewer connected")
    pcs = server_pcs(relay)
    await relay.close()
    assert relay.session_count() == 0
    assert all(pc.connectionState == "closed" for pc in pcs)
    assert events[-1] == (0, False)


async def test_client_closing_its_peer_ends_the_session(new_relay: NewRelay, peers: Peers) -> None:
    """The client's DTLS close_notify closes the server peer ('closed' state) -> session ended."""
    events: list[tuple[int, bool]] = []
    relay = new_relay(on_publishing=lambda seat, on: events.append((seat, on)))
    pub = peers.add(Publisher(3))
    await pub.start(relay)
    await wait_for(lambda: relay.is_publishing(3), what="publishing")
    await pub.close()
    await wait_for(lambda: relay.session_count() == 0, what="server-side cleanup")
    await wait_for(lambda: events == [(3, True), (3, False)], what="on_publishing events")


async def test_publisher_that_never_connects_is_cleaned_up(new_relay: NewRelay, peers: Peers) -> None:
    """A WHIP client that gets its answer and vanishes before ICE: closed after the connect timeout."""
    events: list[tuple[int, bool]] = []
    relay = new_relay(on_publishing=lambda seat, on: events.append((seat, on)), connect_timeout=0.5)
    ghost = Publisher(1)
    await relay.publish(1, await ghost.offer())  # the answer is never applied
    await ghost.close()
    assert relay.session_count() == 1
    pcs = server_pcs(relay)
    await wait_for(lambda: relay.session_count() == 0, within=3.0, what="cleanup after connect timeout")
    await wait_for(lambda: pcs[0].connectionState == "closed", within=2.0, what="server peer closed")
    assert events == []  # it never published
    # the seat is free again
    await peers.add(Publisher(1)).start(relay)


async def test_disconnected_publisher_gets_a_grace_period(new_relay: NewRelay, peers: Peers) -> None:
    """aiortc 1.16 never reports 'disconnected' itself (its states jump to 'failed' when ICE consent
    expires, ~30 s); the grace logic is driven here by injecting the state into the relay's handler."""
    relay = new_relay(publisher_grace=0.3)
    pub = peers.add(Publisher(0))
    await pub.start(relay)
    await wait_for(lambda: relay.is_publishing(0), what="publishing")
    session = relay._sessions[pub.session_id or ""]

    relay._on_connection_state(session, "disconnected")
    await asyncio.sleep(0.1)
    relay._on_connection_state(session, "connected")  # recovered in time
    await asyncio.sleep(0.4)
    assert relay.is_publishing(0)

    relay._on_connection_state(session, "disconnected")
    await wait_for(lambda: relay.session_count() == 0, within=2.0, what="grace expiry")
    assert not relay.is_publishing(0)

    pub2 = peers.add(Publisher(0))
    await pub2.start(relay)
    relay._on_connection_state(relay._sessions[pub2.session_id or ""], "failed")
    await wait_for(lambda: relay.session_count() == 0, within=1.0, what="failed -> closed at once")


async def test_publisher_gone_silent_is_ended_after_grace(new_relay: NewRelay, peers: Peers) -> None:
    """Network loss without a DTLS close: the publisher's packets stop reaching the relay (its
    transport is black-holed here); ICE consent would take ~30 s, the relay gives up after the grace."""
    events: list[tuple[int, bool]] = []
    relay = new_relay(on_publishing=lambda seat, on: events.append((seat, on)), publisher_grace=0.6)
    pub = peers.add(Publisher(2))
    await pub.start(relay)
    await wait_for(lambda: relay.is_publishing(2), what="publishing")
    await asyncio.sleep(1.0)  # media and RTCP keep it alive past the grace
    assert relay.is_publishing(2)

    async def blackhole(data: bytes) -> None:
        return None

    pub.pc.getTransceivers()[0].sender.transport._send_rtp = blackhole
    lost_at = time.monotonic()
    await wait_for(lambda: relay.session_count() == 0, within=3.0, what="silent publisher ended")
    assert 0.5 < time.monotonic() - lost_at < 2.0
    await wait_for(lambda: events == [(2, True), (2, False)], within=1.0, what="on_publishing(2, False)")
    assert relay.publisher_session(2) is None


async def test_an_overloaded_loop_does_not_end_a_live_publisher(new_relay: NewRelay, peers: Peers) -> None:
    """When the whole process stalls longer than the grace (a CPU-starved server), the publisher's
    packets are only waiting unread: the relay must not take that for silence."""
    relay = new_relay(publisher_grace=0.5)
    pub = peers.add(Publisher(1))
    await pub.start(relay)
    await wait_for(lambda: relay.is_publishing(1), what="publishing")
    time.sleep(1.5)  # noqa: ASYNC251 - the point: block the event loop, as overload does
    await asyncio.sleep(1.0)
    assert relay.is_publishing(1)
    assert relay.session_count() == 1


async def test_end_publisher_by_seat(relay: RoomRelay, peers: Peers) -> None:
    pub = peers.add(Publisher(1))
    await pub.start(relay)
    assert relay.publisher_session(1) == pub.session_id
    assert await relay.end_publisher(1)
    assert not await relay.end_publisher(1)
    assert relay.session_count() == 0


async def test_relay_never_encodes_or_decodes(relay: RoomRelay, peers: Peers, monkeypatch: pytest.MonkeyPatch) -> None:
    """Would fail with aiortc's MediaRelay (or any decode/re-encode): relay-side senders only pack,
    relay-side receivers never feed a decoder."""
    encoders_for: list[Any] = []
    decoders_for: list[Any] = []
    real_get_encoder = aiortc_sender.get_encoder
    real_get_decoder = aiortc_receiver.get_decoder

    def spy_get_encoder(codec: Any) -> Any:
        encoders_for.append(sys._getframe(1).f_locals.get("self"))  # the RTCRtpSender asking
        return real_get_encoder(codec)

    def spy_get_decoder(codec: Any) -> Any:
        decoders_for.append(sys._getframe(1).f_locals.get("input_q"))  # the receiver's decoder queue
        return real_get_decoder(codec)

    monkeypatch.setattr(aiortc_sender, "get_encoder", spy_get_encoder)
    monkeypatch.setattr(aiortc_receiver, "get_decoder", spy_get_decoder)

    await peers.add(Publisher(0)).start(relay)
    viewer = peers.add(Viewer(4))
    await viewer.start(relay)
    assert abs(await luma_of(viewer.track(0, "video"), frames=10) - seat_level(0)) < TOLERANCE
    assert isinstance(await next_frame(viewer.track(0, "audio")), av.AudioFrame)

    relay_senders = [s for pc in server_pcs(relay) for s in pc.getSenders()]
    relay_receivers = [r for pc in server_pcs(relay) for r in pc.getReceivers()]
    relay_queues = [r._RTCRtpReceiver__decoder_queue for r in relay_receivers]
    assert encoders_for, "the spy saw the publisher's encoders"
    assert decoders_for, "the spy saw the viewer's decoders"
    assert not [s for s in encoders_for if any(s is r for r in relay_senders)], "a relay sender built an encoder"
    assert not [q for q in decoders_for if any(q is r for r in relay_queues)], "a relay receiver fed a decoder"

    publisher_session = next(s for s in relay._sessions.values() if s.role == "publisher")
    for receiver in publisher_session.receivers.values():
        sink = receiver._RTCRtpReceiver__decoder_queue
        assert isinstance(sink, FrameSink)
        assert sink.frames > 0
    viewer_session = next(s for s in relay._sessions.values() if s.role == "viewer")
    packers = [t.sender._RTCRtpSender__encoder for t in viewer_session.pc.getTransceivers()]
    assert {type(p) for p in packers} == {Vp8Packer, OpusPacker}
    assert sum(p.frames for p in packers) > 10


async def test_keyframe_requests_are_rate_limited(relay: RoomRelay, peers: Peers) -> None:
    await peers.add(Publisher(0)).start(relay)
    viewer = peers.add(Viewer(1))
    await viewer.start(relay)
    await luma_of(viewer.track(0, "video"))
    seat = relay._seats[0]
    before = seat.keyframe_requests
    start = time.monotonic()
    for _ in range(50):
        relay.request_keyframe(0)
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - start
    await asyncio.sleep(relay_module.KEYFRAME_INTERVAL + 0.05)  # let a deferred request fire
    sent = seat.keyframe_requests - before
    assert 1 <= sent <= elapsed / relay_module.KEYFRAME_INTERVAL + 2

    # a PLI from the viewer gates that viewer and reaches the publisher
    slot = next(s for s in seat.slots["video"])
    before = seat.keyframe_requests
    await asyncio.sleep(relay_module.KEYFRAME_INTERVAL)
    viewer_session = next(s for s in relay._sessions.values() if s.role == "viewer")
    sender = next(t.sender for t in viewer_session.pc.getTransceivers() if t.kind == "video")
    sender._send_keyframe()
    assert slot.gated
    assert seat.keyframe_requests == before + 1
    await wait_for(lambda: not slot.gated, within=2.0, what="viewer ungated by the next key frame")


async def test_registry() -> None:
    relays = Relays()
    a = relays.get("a")
    assert relays.get("a") is a
    assert relays.find("b") is None
    b = relays.get("b", ice_servers=[])
    assert relays.find("b") is b
    await relays.close("a")
    assert relays.find("a") is None
    assert a.closed
    with pytest.raises(relay_module.RelayClosed):
        await a.watch("v=0")
    await relays.close_all()
    assert b.closed
    assert len(relays) == 0


async def test_four_pair_offer_with_unusable_video_keeps_seat_order(relay: RoomRelay, peers: Peers) -> None:
    """Every video m-line rejected (a player with neither VP8 nor H.264 in packetization-mode 1):
    audio pair k still maps to seat k, and the rejected m-lines come back at their places."""
    await peers.add(Publisher(1)).start(relay)
    pc = RTCPeerConnection(configuration=config())
    try:
        for _ in range(4):
            pc.addTransceiver("audio", direction="recvonly")
            t = pc.addTransceiver("video", direction="recvonly")
            t.setCodecPreferences(
                [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
            )
        await pc.setLocalDescription(await pc.createOffer())
        _, answer = await relay.watch(_packetization_mode_0(pc.localDescription.sdp))
        sections = _sections(answer)
        assert [s.split()[0] for s in sections] == ["m=audio", "m=video"] * 4
        assert all(s.split()[1] == "0" for s in sections[1::2])
        assert [re.search(r"a=msid:(\S+)", s).group(1) for s in sections[::2]] == [  # type: ignore[union-attr]
            f"seat-{k}" for k in range(4)
        ]
    finally:
        await pc.close()


def test_timeline_is_continuous_across_publishers() -> None:
    timeline = relay_module._Timeline("video")
    assert [timeline.map("a", ts) for ts in (0, 3000, 6000)] == [0, 3000, 6000]
    first_of_b = timeline.map("b", 0)  # a new publisher's receiver starts again at 0
    assert first_of_b >= 9000
    assert timeline.map("b", 3000) == first_of_b + 3000
