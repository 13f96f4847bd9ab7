"""Helpers of the recording tests: publishers whose picture AND sound say which seat they are,
and readers that decode a recorded file and tell what is in it."""

from __future__ import annotations

import asyncio
import fractions
import math
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
from aiortc import AudioStreamTrack
from django.test import override_settings

from tests.media.peers import Publisher, mean_luma

RATE, SAMPLES = 48000, 960


def seat_tone(seat: int) -> int:
    """The frequency (Hz) seat `seat` sings: a whole number of cycles in each 20 ms frame."""
    return 400 + 250 * seat


class SeatToneTrack(AudioStreamTrack):
    """A steady tone of the seat's frequency (mono, 48 kHz, 20 ms frames)."""

    def __init__(self, hz: int) -> None:
        super().__init__()
        wave = array("h", (int(math.sin(2 * math.pi * hz * n / RATE) * 9000) for n in range(SAMPLES)))
        self._frame_bytes = wave.tobytes()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._pts / RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(self._frame_bytes)
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += SAMPLES
        return frame


def singing_publisher(seat: int, **kwargs: object) -> Publisher:
    """A Publisher (gray level of the seat) whose audio is the seat's tone."""
    publisher = Publisher(seat, **kwargs)  # type: ignore[arg-type]
    if publisher.audio is not None:
        tone = SeatToneTrack(seat_tone(seat))
        publisher.pc.getTransceivers()[0].sender.replaceTrack(tone)
        publisher.audio = tone
    return publisher


def power_at(samples: array, hz: float, rate: int = RATE) -> float:
    """Goertzel: the power of one frequency in `samples` (normalised by length)."""
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for value in samples:
        s1, s2 = value + coefficient * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / max(1, len(samples)) ** 2


def loudest_seat(samples: array, seats: range = range(4)) -> int:
    return max(seats, key=lambda seat: power_at(samples, seat_tone(seat)))


@dataclass
class Decoded:
    """What a recorded (or composed) file holds once decoded."""

    video_times: list[float] = field(default_factory=list)
    lumas: list[float] = field(default_factory=list)
    audio: array = field(default_factory=lambda: array("h"))  # mono s16 at 48 kHz, from t=0
    duration: float = 0.0
    sizes: set[tuple[int, int]] = field(default_factory=set)

    def audio_between(self, start: float, end: float) -> array:
        return self.audio[int(start * RATE) : int(end * RATE)]


def decode(path: Path | str, *, every: int = 1, quadrant_of: int | None = None) -> Decoded:
    """Decode every `every`-th picture (mean luma of the whole picture, or of one 2x2 quadrant) and
    all the sound (mixed to mono) of a file."""
    out = Decoded()
    with av.open(str(path)) as container:
        out.duration = float(container.duration or 0) / av.time_base
        if container.streams.video:
            for index, frame in enumerate(container.decode(video=0)):
                out.video_times.append(float(frame.time or 0))
                out.sizes.add((frame.width, frame.height))
                if index % every == 0:
                    out.lumas.append(mean_luma(frame))
    with av.open(str(path)) as container:
        if container.streams.audio:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            first = True
            for frame in container.decode(audio=0):
                for part in resampler.resample(frame):
                    if first:
                        out.audio.extend([0] * int(float(frame.time or 0) * RATE))
                        first = False
                    out.audio.frombytes(bytes(part.planes[0])[: part.samples * 2])
    return out


def quadrant_luma(frame: av.VideoFrame, seat: int) -> float:
    """Mean luma of the middle of the seat's tile in a 2x2 composition."""
    plane = frame.planes[0]
    data = bytes(plane)
    half_w, half_h = frame.width // 2, frame.height // 2
    x0 = (seat % 2) * half_w + half_w // 4
    y0 = (seat // 2) * half_h + half_h // 4
    total = count = 0
    for row in range(y0, y0 + half_h // 2, 4):
        line = data[row * plane.line_size + x0 : row * plane.line_size + x0 + half_w // 2]
        total += sum(line)
        count += len(line)
    return total / count


@contextmanager
def media_root(path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(path)):  # FileSystemStorage follows the setting
        yield path


async def db_wait_for(predicate: Callable[[], bool], within: float = 10.0, what: str = "condition") -> None:
    """`wait_for` for a predicate that reads the database (run in a worker thread each time)."""
    from liverooms.db import db_async

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await db_async(predicate)():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
