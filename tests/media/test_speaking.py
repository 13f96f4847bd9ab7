"""Who is speaking, read by the relay from each Opus packet's audio-level header extension: real
aiortc publishers (aiortc's sender writes the RFC 6464 level of what it sends), a tone on one
seat, silence on another; and the rules on a clock of our own."""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from array import array

import av
import pytest
from aiortc import AudioStreamTrack

from media.relay import RoomRelay
from media.speaking import SpeakingDetector
from tests.media.peers import NewRelay, Publisher, wait_for

RATE, SAMPLES = 48000, 960  # 20 ms of Opus


class ToneTrack(AudioStreamTrack):
    """A loud 440 Hz tone while `on`, silence otherwise (the level aiortc's sender measures)."""

    def __init__(self) -> None:
        super().__init__()
        self.on = True
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        await asyncio.sleep(SAMPLES / RATE)
        loudness = 12000 if self.on else 0
        wave = array(
            "h", (int(math.sin(2 * math.pi * 440 * (n + self._pts) / RATE) * loudness) for n in range(SAMPLES))
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(wave.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += SAMPLES
        return frame


@pytest.fixture
def heard(new_relay: NewRelay) -> tuple[RoomRelay, list[tuple[float, list[int]]]]:
    changes: list[tuple[float, list[int]]] = []
    relay = new_relay(on_speaking=lambda seats: changes.append((time.monotonic(), seats)))
    return relay, changes


async def test_a_talking_seat_is_speaking_and_a_silent_one_never(heard) -> None:
    relay, changes = heard
    talker, quiet = Publisher(0, video=False), Publisher(1, video=False)
    tone = ToneTrack()
    talker.pc.getTransceivers()[0].sender.replaceTrack(tone)
    try:
        await talker.start(relay)
        await quiet.start(relay)
        await wait_for(lambda: bool(changes), within=10, what="a speaking report")
        assert changes[0][1] == [0]
        tone.on = False
        stopped = time.monotonic()
        await wait_for(lambda: changes[-1][1] == [], within=3, what="the end of speech")
        assert 0.4 <= changes[-1][0] - stopped <= 1.5  # silent after ~500 ms
        tone.on = True
        spoke = time.monotonic()
        await wait_for(lambda: changes[-1][1] == [0], within=3, what="speech again")
        assert changes[-1][0] - spoke <= 0.5  # the goal is 300 ms from the first loud packet
        assert all(1 not in seats for _, seats in changes)
        # the host's mic off: never speaking, whatever the publisher sends
        relay.set_forwarding(0, video=True, audio=False)
        await wait_for(lambda: changes[-1][1] == [], within=2, what="muted")
        count = len(changes)
        await asyncio.sleep(0.6)
        assert len(changes) == count
    finally:
        await talker.close()
        await quiet.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_speaking_needs_100_ms_of_sound_and_survives_pauses_between_words() -> None:
    clock, reports = Clock(), []
    detector = SpeakingDetector(reports.append, clock=clock, max_per_second=1000)
    try:
        detector.heard(0, 20)  # loud (-20 dBov)
        clock.now += 0.06
        detector.heard(0, 20)
        assert detector.speaking() == []  # 60 ms: a cough, not speech
        clock.now += 0.06
        detector.heard(0, 20)
        assert reports == [[0]]
        clock.now += 0.3  # a pause between words
        detector.check()
        detector.heard(0, 90)  # quiet packets do not end it either
        assert detector.speaking() == [0]
        clock.now += 0.25
        detector.check()
        assert reports == [[0], []]  # 550 ms without a loud packet
        detector.heard(1, 127)  # silence never starts anything
        clock.now += 1
        detector.heard(1, 127)
        assert detector.speaking() == []
    finally:
        detector.close()


async def test_reports_are_at_most_five_a_second_and_carry_the_latest_set() -> None:
    clock, reports = Clock(), []
    detector = SpeakingDetector(reports.append, clock=clock, start_after=0)
    try:
        detector.heard(0, 10)
        detector.heard(1, 10)  # within the same 200 ms: scheduled, not sent
        assert reports == [[0]]
        clock.now += 0.2
        await asyncio.sleep(0.25)
        assert reports == [[0], [0, 1]]
    finally:
        detector.close()
