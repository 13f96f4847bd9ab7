"""The one transcode: every seat of a replay in one 4-up MP4 (H.264 + AAC) for the host to download.

The grid is the live's: seat 0 top left, 1 top right, 2 bottom left, 3 bottom right, each tile
1/4 of the picture (COMPOSE_WIDTH x COMPOSE_HEIGHT in all), the seat's picture fitted inside it
(letterboxed), a dark tile where the seat had no picture (empty, camera off, between periods). The
sound is every seat's audio mixed. Runs in a Celery worker (media.tasks.compose_replay), CPU bounded
by COMPOSE_THREADS encoder threads and COMPOSE_NICE; decoding is FFmpeg's, one thread per seat.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from media.models import Recording, Replay
from media.replays import live_started_at

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # C-speed mixing of s16 samples (no numpy here); in the standard library until 3.13

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1280, 720
TILE_W, TILE_H = WIDTH // 2, HEIGHT // 2
RATE = 48_000
PLACEHOLDER = (24, 128, 128)  # a dark gray tile (Y, U, V)
ORIGIN = {0: (0, 0), 1: (TILE_W, 0), 2: (0, TILE_H), 3: (TILE_W, TILE_H)}


@dataclass
class _Piece:
    recording: Recording
    start: float  # seconds from the replay's zero
    end: float
    path: str
    copied: bool  # a temporary local copy, deleted once composed


def _local(name: str) -> tuple[str, bool]:
    """A local path to read `name` from (a temporary copy when the storage is not a folder)."""
    try:
        return default_storage.path(name), False
    except NotImplementedError:
        suffix = Path(name).suffix
        with (
            default_storage.open(name, "rb") as source,
            tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as copy,
        ):
            for chunk in iter(lambda: source.read(1 << 20), b""):
                copy.write(chunk)
        return copy.name, True


def _fit(width: int, height: int) -> tuple[int, int]:
    """The largest even size of that aspect inside a tile."""
    scale = min(TILE_W / width, TILE_H / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class _VideoCursor:
    """One seat's pictures across its periods, decoded in order; `at(t)` is what shows at time t."""

    def __init__(self, pieces: list[_Piece]) -> None:
        self.pieces = [p for p in pieces if p.recording.has_video]
        self.frames = self._frames()
        self.current: tuple[float, Any, _Piece] | None = None
        self.upcoming: tuple[float, Any, _Piece] | None = next(self.frames, None)

    def _frames(self) -> Iterator[tuple[float, Any, _Piece]]:
        for piece in self.pieces:
            try:
                with av.open(piece.path) as container:
                    stream = container.streams.video[0]
                    stream.thread_type = "AUTO"
                    for frame in container.decode(stream):
                        if frame.time is None:
                            continue
                        yield piece.start + float(frame.time), frame, piece
            except (av.FFmpegError, IndexError):
                logger.warning("composing: could not read the video of %s", piece.path)

    def at(self, t: float) -> Any:
        while self.upcoming is not None and self.upcoming[0] <= t:
            self.current = self.upcoming
            self.upcoming = next(self.frames, None)
        if self.current is None:
            return None
        shown_at, frame, piece = self.current
        if t >= piece.end or t - shown_at > 1.0:
            return None
        local = t - piece.start
        if any(a <= local < b for a, b in piece.recording.video_off or []):
            return None
        return frame


class _AudioCursor:
    """One seat's sound across its periods as s16 stereo at 48 kHz, read in order by sample index."""

    def __init__(self, pieces: list[_Piece]) -> None:
        self.pieces = [p for p in pieces if p.recording.has_audio]
        self.chunks = self._chunks()
        self.buffer = bytearray()
        self.buffer_start = 0  # sample index of buffer[0]

    def _chunks(self) -> Iterator[tuple[int, bytes]]:
        for piece in self.pieces:
            resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
            try:
                with av.open(piece.path) as container:
                    stream = container.streams.audio[0]
                    first: int | None = None
                    for frame in container.decode(stream):
                        for out in resampler.resample(frame):
                            if first is None:
                                first = round((piece.start + float(frame.time or 0)) * RATE)
                            yield first, bytes(out.planes[0])[: out.samples * 4]
                            first += out.samples
            except (av.FFmpegError, IndexError):
                logger.warning("composing: could not read the audio of %s", piece.path)

    def read(self, start: int, count: int) -> bytes:
        """Samples [start, start + count) (silence where the seat had none)."""
        end = start + count
        while self.buffer_start + len(self.buffer) // 4 < end:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            at, data = chunk
            have = self.buffer_start + len(self.buffer) // 4
            if at > have:  # a hole: silence
                if not self.buffer:
                    self.buffer_start = at
                else:
                    self.buffer += bytes((at - have) * 4)
            elif at < have:  # overlap (two periods): drop what is already there
                data = data[(have - at) * 4 :]
            self.buffer += data
        out = bytearray(count * 4)
        lo = max(start, self.buffer_start)
        hi = min(end, self.buffer_start + len(self.buffer) // 4)
        if hi > lo:
            offset = self.buffer_start
            out[(lo - start) * 4 : (hi - start) * 4] = self.buffer[(lo - offset) * 4 : (hi - offset) * 4]
        drop = max(0, min(len(self.buffer) // 4, end - self.buffer_start))
        del self.buffer[: drop * 4]
        self.buffer_start += drop
        return bytes(out)


class _Canvas:
    """The 4-up picture: planes rewritten per tile only when that tile's picture changed."""

    def __init__(self) -> None:
        self.planes = [
            bytearray(bytes([PLACEHOLDER[0]]) * (WIDTH * HEIGHT)),
            bytearray(bytes([PLACEHOLDER[1]]) * (WIDTH * HEIGHT // 4)),
            bytearray(bytes([PLACEHOLDER[2]]) * (WIDTH * HEIGHT // 4)),
        ]
        self.shown: dict[int, int] = {}  # seat -> id of the frame drawn (0: placeholder)

    def draw(self, seat: int, frame: Any) -> None:
        key = id(frame) if frame is not None else 0
        if self.shown.get(seat) == key:
            return
        self.shown[seat] = key
        x0, y0 = ORIGIN[seat]
        if frame is None:
            self._fill(x0, y0, TILE_W, TILE_H)
            return
        width, height = _fit(frame.width, frame.height)
        scaled = frame.reformat(width=width, height=height, format="yuv420p")
        self._fill(x0, y0, TILE_W, TILE_H, value=(0, 128, 128))
        ox, oy = x0 + (TILE_W - width) // 2 // 2 * 2, y0 + (TILE_H - height) // 2 // 2 * 2
        for index, plane in enumerate(scaled.planes):
            shift = 0 if index == 0 else 1
            stride, row_width = plane.line_size, width >> shift
            source = memoryview(bytes(plane))
            target = self.planes[index]
            out_stride = WIDTH >> shift
            left, top = ox >> shift, oy >> shift
            for row in range(height >> shift):
                at = (top + row) * out_stride + left
                target[at : at + row_width] = source[row * stride : row * stride + row_width]

    def _fill(self, x0: int, y0: int, width: int, height: int, value: tuple[int, int, int] = PLACEHOLDER) -> None:
        for index, target in enumerate(self.planes):
            shift = 0 if index == 0 else 1
            row_bytes = bytes([value[index]]) * (width >> shift)
            stride = WIDTH >> shift
            for row in range(height >> shift):
                at = ((y0 >> shift) + row) * stride + (x0 >> shift)
                target[at : at + (width >> shift)] = row_bytes

    def frame(self) -> av.VideoFrame:
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for index, (plane, data) in enumerate(zip(frame.planes, self.planes, strict=True)):
            width = WIDTH if index == 0 else WIDTH // 2
            if plane.line_size == width:
                plane.update(bytes(data))
                continue
            rows = len(data) // width  # the frame's rows are padded: copy row by row
            padded = bytearray(plane.line_size * rows)
            for row in range(rows):
                padded[row * plane.line_size : row * plane.line_size + width] = data[row * width : (row + 1) * width]
            plane.update(bytes(padded))
        return frame


def pieces_of(replay: Replay) -> dict[int, list[_Piece]]:
    zero = live_started_at(replay)
    seats: dict[int, list[_Piece]] = {0: [], 1: [], 2: [], 3: []}
    for recording in replay.recordings.filter(ended_at__isnull=False).order_by("started_at"):
        start = (recording.started_at - zero).total_seconds()
        path, copied = _local(recording.file.name)
        seats[recording.seat_index].append(_Piece(recording, start, start + recording.duration, path, copied))
    return seats


def compose(replay: Replay, output: Path, *, fps: int | None = None, threads: int | None = None) -> float:
    """Write the 4-up MP4 of `replay` to `output`; returns its duration in seconds."""
    fps = fps or settings.COMPOSE_FPS
    seats = pieces_of(replay)
    try:
        return _compose(seats, output, fps=fps, threads=threads or settings.COMPOSE_THREADS)
    finally:
        for piece in (p for pieces in seats.values() for p in pieces if p.copied):
            Path(piece.path).unlink(missing_ok=True)


def _compose(seats: dict[int, list[_Piece]], output: Path, *, fps: int, threads: int) -> float:
    duration = max((p.end for pieces in seats.values() for p in pieces), default=0.0)
    videos = {seat: _VideoCursor(pieces) for seat, pieces in seats.items()}
    sounds = {seat: _AudioCursor(p) for seat, p in seats.items() if any(x.recording.has_audio for x in p)}
    with av.open(str(output), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.options = {"preset": "veryfast", "crf": "23"}
        video.codec_context.thread_count = threads
        audio = container.add_stream("aac", rate=RATE)
        audio.layout = "stereo"
        audio.bit_rate = 128_000
        to_aac = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        canvas = _Canvas()
        frames = max(1, round(duration * fps))
        samples_done = 0
        for index in range(frames):
            t = index / fps
            for seat in ORIGIN:
                canvas.draw(seat, videos[seat].at(t))
            picture = canvas.frame()
            picture.pts, picture.time_base = index, Fraction(1, fps)
            container.mux(video.encode(picture))
            upto = round((index + 1) * RATE / fps)
            count = upto - samples_done
            mixed = bytes(count * 4)
            for sound in sounds.values():
                mixed = audioop.add(mixed, sound.read(samples_done, count), 2)
            chunk = av.AudioFrame(format="s16", layout="stereo", samples=count)
            chunk.planes[0].update(mixed)
            chunk.sample_rate, chunk.pts, chunk.time_base = RATE, samples_done, Fraction(1, RATE)
            samples_done = upto
            for converted in to_aac.resample(chunk):
                container.mux(audio.encode(converted))
        container.mux(video.encode(None))
        for converted in to_aac.resample(None):
            container.mux(audio.encode(converted))
        container.mux(audio.encode(None))
    return duration


def compose_replay(*, replay_id: int) -> str:
    """Compose a ready replay once (idempotent: a composed, running or deleted replay is left)."""
    updated = Replay.objects.filter(
        pk=replay_id,
        ready_at__isnull=False,
        deleted_at__isnull=True,
        composed_status__in=[Replay.Composed.PENDING, Replay.Composed.FAILED, Replay.Composed.NONE],
    ).update(composed_status=Replay.Composed.RUNNING)
    if not updated:
        return "skipped"
    replay = Replay.objects.select_related("room").get(pk=replay_id)
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".mp4", dir=settings.VAR_DIR)
    os.close(handle)
    try:
        compose(replay, Path(temporary))
        with open(temporary, "rb") as made:
            name = default_storage.save(f"replays/{replay.room.slug}/composed.mp4", File(made))
    except Exception:
        logger.exception("composing replay %s failed", replay_id)
        Replay.objects.filter(pk=replay_id).update(composed_status=Replay.Composed.FAILED)
        return "failed"
    finally:
        Path(temporary).unlink(missing_ok=True)
    kept = Replay.objects.filter(pk=replay_id, deleted_at__isnull=True).update(
        composed=name, composed_status=Replay.Composed.READY
    )
    if not kept:  # deleted while composing
        default_storage.delete(name)
        return "deleted"
    return "ready"
