"""The relay's recording tap: one `RoomRecorder` per room and process, off the relay's hot path.

The relay calls `opened` / `frame` / `closed` on its event loop (media/relay.py, the tap lines).
Those only put items on a queue; one writer thread per room does everything else (PyAV, files,
the database). The queue is bounded (RECORDING_QUEUE_FRAMES frames): past it frames are dropped
and counted, and the seat's video waits for its next key frame (the relay is asked for one), so a
slow disk costs a few seconds of a recording, never the live.

A period (one `Recording`) is a publisher session from its first frame to its end; a new session
(a guest joining, a host reconnecting) is a new period. The recorder also starts a new period when
the file cannot take what comes (video after an audio-only start) and ends every period at once
when recording is turned off (on again: new periods).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from media.h264 import is_h264_keyframe
from media.recording import storage
from media.recording.bitstream import video_size
from media.recording.writer import CLOCK, SeatFile, container_for
from media.vp8 import is_vp8_keyframe

logger = logging.getLogger(__name__)

IS_KEYFRAME: dict[str, Callable[[bytes], bool]] = {"vp8": is_vp8_keyframe, "h264": is_h264_keyframe}
#: how long a period waits for its first video key frame (holding its audio) before it opens without video
OPEN_WAIT = 3.0
#: frames a period holds while it waits to open
PENDING_MAX = 600


def writer_id() -> str:
    """Names this process in `Recording.writer` (recovery tells dead writers by it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Frame:
    seat: int
    session: str
    kind: str
    codec: str
    data: bytes
    timestamp: int
    arrival: float  # time.time()


@dataclass
class _Control:
    what: str  # "open" | "close" | "switch" | "stop"
    seat: int = 0
    session: str = ""
    kinds: tuple[str, ...] = ()
    enabled: bool = True


@dataclass
class _LoopSide:
    """What the relay's side keeps per session: its kinds, and whether its video waits for a key frame."""

    kinds: tuple[str, ...]
    video_gated: bool = False


class Period:
    """One seat's publishing period being written (writer thread only)."""

    def __init__(self, recorder: RoomRecorder, seat: int, session: str, kinds: tuple[str, ...]) -> None:
        self.recorder = recorder
        self.seat = seat
        self.session = session
        self.kinds = kinds
        self.pending: list[_Frame] = []
        self.t0 = 0.0  # wall time of the file's zero (its first frame's arrival)
        self.started = False
        self.base: dict[str, tuple[int, float]] = {}  # kind -> (first RTP timestamp, its time on the file)
        self.last_ts: dict[str, int] = {}
        self.file: SeatFile | None = None
        self.row_id: int | None = None
        self.name = ""
        self.video_gated = True
        self.dropped = 0
        self.done = False

    # -- frames
    def add(self, frame: _Frame) -> None:
        if self.done:
            return
        if not self.started:
            self.t0, self.started = frame.arrival, True
        if self.file is None:
            self.pending.append(frame)
            if len(self.pending) > PENDING_MAX:
                self.pending.pop(0)
                self.dropped += 1
            self._maybe_open(frame.arrival)
            return
        self._write(frame)

    def _time_of(self, frame: _Frame) -> float:
        kind = frame.kind
        base = self.base.get(kind)
        if base is None:
            base = self.base[kind] = (frame.timestamp, max(0.0, frame.arrival - self.t0))
        return base[1] + (frame.timestamp - base[0]) / CLOCK[kind]

    def _maybe_open(self, now: float) -> None:
        want_video = "video" in self.kinds
        key = next(
            (f for f in self.pending if f.kind == "video" and f.codec in IS_KEYFRAME and IS_KEYFRAME[f.codec](f.data)),
            None,
        )
        size = video_size(key.codec, key.data) if key is not None else None
        if want_video and size is None and now - self.t0 < OPEN_WAIT:
            if any(f.kind == "video" for f in self.pending):
                self.recorder.ask_keyframe(self.seat)
            return
        video = (key.codec, size[0], size[1]) if key is not None and size is not None else None
        audio = "audio" in self.kinds or any(f.kind == "audio" for f in self.pending)
        if video is None and not audio:
            if now - self.t0 >= OPEN_WAIT:
                self.pending.clear()
            return
        if video is not None and key is not None:
            # the file starts at its first key frame (earlier video could not be decoded)
            self.pending = [f for f in self.pending if f.kind == "audio" or f.arrival >= key.arrival]
        self._open(video, audio)
        pending, self.pending = self.pending, []
        for frame in pending:
            self._write(frame)

    def _open(self, video: tuple[str, int, int] | None, audio: bool) -> None:
        from media.models import Recording

        container = container_for(video[0] if video else None)
        started = datetime.fromtimestamp(self.t0, tz=UTC)
        stamp = started.strftime("%Y%m%d-%H%M%S")
        self.name = storage.new_name(
            f"replays/{self.recorder.slug}/seat{self.seat}-{stamp}-{self.session[:6]}.{container}"
        )
        path = storage.local_path(self.name)
        self.file = SeatFile(path, video=video, audio=audio, flush_seconds=settings.RECORDING_FLUSH_SECONDS)
        self.video_gated = True
        row = Recording.objects.create(
            replay_id=self.recorder.replay_id(),
            seat_index=self.seat,
            user_id=self.recorder.seat_user(self.seat),
            file=self.name,
            container=container,
            video_codec=video[0] if video else "",
            has_video=video is not None,
            has_audio=audio,
            started_at=started,
            writer=writer_id(),
            heartbeat_at=timezone.now(),
        )
        self.row_id = row.pk
        logger.info("recording seat %s of room %s to %s", self.seat, self.recorder.room_id, self.name)

    def _write(self, frame: _Frame) -> None:
        file = self.file
        if file is None:
            return
        if frame.kind == "video":
            if not file.has_video:
                self._restart(frame)  # video came after an audio-only start: a new file that has it
                return
            if frame.codec != file.video_codec:
                self._restart(frame)
                return
            at = self._time_of(frame)
            last = self.last_ts.get("video")
            keyframe = IS_KEYFRAME[frame.codec](frame.data)
            jumped = last is not None and (frame.timestamp - last) / CLOCK["video"] > 0.5
            if jumped:
                self.video_gated = True  # frames are missing in between: wait for a key frame
            self.last_ts["video"] = frame.timestamp
            if self.video_gated:
                if not keyframe:
                    self.recorder.ask_keyframe(self.seat)
                    return
                self.video_gated = False
            if at < 0:
                return
            file.write_video(frame.data, at, keyframe)
        elif frame.kind == "audio" and file.has_audio:
            at = self._time_of(frame)
            self.last_ts["audio"] = frame.timestamp
            if at >= 0:
                file.write_audio(frame.data, at)

    def _restart(self, frame: _Frame) -> None:
        self.finish()
        replacement = self.recorder.new_period(self.seat, self.session, self.kinds)
        replacement.add(frame)

    # -- bookkeeping
    def flush_row(self) -> None:
        """Heartbeat: size, duration, spans so far (a crash keeps them)."""
        from media.models import Recording

        if self.row_id is None or self.file is None:
            return
        video_off, audio_off = self.file.spans()
        Recording.objects.filter(pk=self.row_id).update(
            size=self._size(),
            duration=round(self.file.end, 3),
            video_off=video_off,
            audio_off=audio_off,
            dropped_frames=self.dropped,
            heartbeat_at=timezone.now(),
        )

    def _size(self) -> int:
        try:
            return self.file.path.stat().st_size if self.file is not None else 0
        except OSError:
            return 0

    def finish(self) -> None:
        """Close the file and its row (the period ended, or recording was turned off)."""
        from media.models import Recording
        from media.recording.actions import mark_ready

        if self.done:
            return
        self.done = True
        self.recorder.forget(self)
        if self.file is None or self.row_id is None:
            return
        video_off, audio_off = self.file.spans()
        self.file.close()
        name = storage.publish(self.name, self.file.path)
        ended = datetime.fromtimestamp(self.t0, tz=UTC) + timedelta(seconds=self.file.end)
        Recording.objects.filter(pk=self.row_id).update(
            file=name,
            size=storage.size_of(name),
            duration=round(self.file.end, 3),
            video_off=video_off,
            audio_off=audio_off,
            dropped_frames=self.dropped,
            ended_at=ended,
            heartbeat_at=timezone.now(),
            writer="",
        )
        mark_ready(room_id=self.recorder.room_id)


class RoomRecorder:
    """The tap of one room's relay (see the module's docstring)."""

    def __init__(
        self,
        room_id: int,
        slug: str,
        *,
        request_keyframe: Callable[[int], None] | None = None,
        enabled: bool = True,
        max_queued: int | None = None,
    ) -> None:
        self.room_id = room_id
        self.slug = slug
        self.enabled = enabled
        self._request_keyframe = request_keyframe
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        self.max_queued = max_queued if max_queued is not None else settings.RECORDING_QUEUE_FRAMES
        self._queue: queue.Queue[_Frame | _Control] = queue.Queue()
        self._sessions: dict[str, _LoopSide] = {}
        # writer thread state
        self._periods: dict[str, Period] = {}
        self._replay_id: int | None = None
        self._stopped = threading.Event()
        self.dropped = 0  # frames the queue had no room for
        self.frames = 0  # frames queued
        self._thread = threading.Thread(target=self._run, name=f"recorder-{room_id}", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- relay side (event loop)
    def opened(self, seat: int, session: str, kinds: tuple[str, ...]) -> None:
        self._sessions[session] = _LoopSide(kinds=kinds)
        self._queue.put(_Control("open", seat, session, kinds))

    def frame(self, seat: int, session: str, kind: str, codec: str, data: bytes, timestamp: int) -> None:
        if not self.enabled:
            return
        side = self._sessions.get(session)
        if side is None:
            return
        if kind == "video" and side.video_gated:
            if not (codec in IS_KEYFRAME and IS_KEYFRAME[codec](data)):
                self.dropped += 1
                return
            side.video_gated = False
        if self._queue.qsize() >= self.max_queued:
            self.dropped += 1
            if kind == "video":
                side.video_gated = True
                self.ask_keyframe(seat)
            return
        self.frames += 1
        self._queue.put(_Frame(seat, session, kind, codec, data, timestamp, time.time()))

    def closed(self, seat: int, session: str) -> None:
        if self._sessions.pop(session, None) is not None:
            self._queue.put(_Control("close", seat, session))

    def switch(self, enabled: bool) -> None:
        """Recording turned on or off for this room (thread-safe)."""
        self.enabled = enabled
        self._queue.put(_Control("switch", enabled=enabled))

    def stop(self) -> None:
        """The relay closed: finish every file; the thread ends when the queue is done."""
        self._sessions.clear()
        self._queue.put(_Control("stop"))

    async def stopped(self) -> None:
        """Wait (without blocking the loop) until the writer thread has closed every file."""
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 60.0)

    def ask_keyframe(self, seat: int) -> None:
        """Ask the publisher for a key frame (from either thread; the relay rate-limits requests)."""
        if self._request_keyframe is None or self._loop is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._request_keyframe, seat)

    # ---------------------------------------------------------------- writer thread
    def replay_id(self) -> int:
        from media.models import Replay

        if self._replay_id is None:
            replay, _ = Replay.objects.get_or_create(room_id=self.room_id)
            self._replay_id = replay.pk
        return self._replay_id

    def seat_user(self, seat: int) -> int | None:
        from rooms.models import Seat

        user: int | None = (
            Seat.objects.filter(room_id=self.room_id, index=seat).values_list("user_id", flat=True).first()
        )
        return user

    def new_period(self, seat: int, session: str, kinds: tuple[str, ...]) -> Period:
        period = self._periods[session] = Period(self, seat, session, kinds)
        return period

    def forget(self, period: Period) -> None:
        if self._periods.get(period.session) is period:
            del self._periods[period.session]

    def _run(self) -> None:
        kinds: dict[str, tuple[int, tuple[str, ...]]] = {}  # session -> (seat, kinds) of open sessions
        flush_every = settings.RECORDING_FLUSH_SECONDS
        next_flush = time.monotonic() + flush_every
        try:
            from media.recording.actions import recording_wanted

            self.enabled = self.enabled and recording_wanted(self.room_id)
        except Exception:
            logger.exception("reading the recording switch of room %s failed", self.room_id)
        try:
            while True:
                try:
                    item = self._queue.get(timeout=min(0.5, flush_every))
                except queue.Empty:
                    item = None
                if isinstance(item, _Frame):
                    if self.enabled:
                        period = self._periods.get(item.session)
                        if period is None and item.session in kinds:
                            period = self.new_period(item.seat, item.session, kinds[item.session][1])
                        if period is not None:
                            self._guard(period.add, item)
                elif isinstance(item, _Control):
                    if item.what == "open":
                        kinds[item.session] = (item.seat, item.kinds)
                    elif item.what == "close":
                        kinds.pop(item.session, None)
                        if (period := self._periods.get(item.session)) is not None:
                            self._guard(period.finish)
                    elif item.what == "switch" and not item.enabled:
                        self._finish_all()
                    elif item.what == "stop":
                        break
                now = time.monotonic()
                if now >= next_flush:
                    next_flush = now + flush_every
                    self._heartbeat()
        finally:
            self._finish_all()
            self._stopped.set()
            if recorders.rooms.get(self.room_id) is self:
                del recorders.rooms[self.room_id]
            connections.close_all()

    def _guard(self, call: Callable[..., Any], *args: Any) -> None:
        try:
            call(*args)
        except Exception:
            logger.exception("recording of room %s failed", self.room_id)

    def _heartbeat(self) -> None:
        close_old_connections()
        for period in list(self._periods.values()):
            self._guard(period.flush_row)
            if period.file is None and period.started:
                self._guard(period._maybe_open, time.time())
        # the switch may have been turned in another process: look every flush
        from media.recording.actions import recording_wanted

        try:
            wanted = recording_wanted(self.room_id)
        except Exception:
            logger.exception("reading the recording switch of room %s failed", self.room_id)
            return
        if wanted != self.enabled:
            self.enabled = wanted
            if not wanted:
                self._finish_all()

    def _finish_all(self) -> None:
        for period in list(self._periods.values()):
            self._guard(period.finish)


@dataclass
class Recorders:
    """The recorders of this process's rooms (room id -> recorder)."""

    rooms: dict[int, RoomRecorder] = field(default_factory=dict)

    def get(self, room_id: int) -> RoomRecorder | None:
        return self.rooms.get(room_id)


recorders = Recorders()


def attach(relay: Any, room_id: int, slug: str) -> RoomRecorder | None:
    """Give a room's new relay its recorder (media/services.py calls this once per relay); None when
    the site does not record. The room's own switch is read by the writer thread, not here (this
    runs on the event loop)."""
    if not settings.RECORDING_ENABLED:
        return None
    recorder = RoomRecorder(room_id, slug, request_keyframe=relay.request_keyframe)
    recorders.rooms[room_id] = recorder
    relay.tap = recorder
    return recorder


def _on_switch(room_id: int, enabled: bool) -> None:
    recorder = recorders.get(room_id)
    if recorder is not None:
        recorder.switch(enabled)


def _register() -> None:
    from media.recording.actions import on_switch

    on_switch(_on_switch)


_register()
