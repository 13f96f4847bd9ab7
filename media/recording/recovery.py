"""Recordings a dead process left open: closed, and made playable by a cheap remux.

A killed writer leaves a file whose clusters (WebM) or fragments (MP4) are all complete but the
last, with no index (WebM: no cues, no duration; MP4: no fragment index), and a row with no
`ended_at`. Recovery demuxes what is readable (stopping at the torn tail) and muxes it into a new
file with an index — no decoding, about as fast as copying the file — then closes the row.

Who recovers: a process starting (`on_process_start`, from MediaConfig.ready: a thread once the
server runs, never the database at import time) takes the open recordings of dead processes of
its own machine (their pid is gone); the beat sweep (`sweep`, media.tasks.sweep_recordings) takes
any whose writer has not flushed for RECORDING_STALE_AFTER seconds, and marks ready the replays
of lives that ended meanwhile. A recording is claimed (its `writer` swapped in one UPDATE) before
it is touched, so two recoverers never work on one file.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from media.models import Recording, Replay
from media.recording import storage
from media.recording.actions import mark_ready
from media.recording.recorder import writer_id
from media.recording.writer import muxer_options

logger = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(writer: str) -> bool:
    """`writer` ("host:pid") is a process of this machine that is gone (or empty: nobody)."""
    if not writer:
        return True
    host, _, pid = writer.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def remux(source: Path, target: Path, container: str) -> tuple[float, int]:
    """Copy every readable packet of `source` into a new indexed `target`; (duration, packets)."""
    packets = 0
    end = 0.0
    with av.open(str(source)) as given:
        options = {k: v for k, v in muxer_options(container, 2.0).items() if k != "flush_packets"}
        with av.open(str(target), "w", format=container, options=options) as out:
            mapping: dict[int, Any] = {}
            for stream in given.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = out.add_stream_from_template(stream, opaque=True)
            last_dts: dict[int, int] = {}
            try:
                for packet in given.demux(*[s for s in given.streams if s.index in mapping]):
                    if packet.dts is None or packet.size == 0:
                        continue
                    index = packet.stream.index
                    if index in last_dts and packet.dts <= last_dts[index]:
                        continue
                    last_dts[index] = packet.dts
                    if packet.pts is not None and packet.time_base is not None:
                        length = float((packet.duration or 0) * packet.time_base)
                        end = max(end, float(packet.pts * packet.time_base) + length)
                    packet.stream = mapping[index]
                    out.mux(packet)
                    packets += 1
            except (av.FFmpegError, EOFError):
                pass  # the torn tail of a killed writer
    return end, packets


def recover(recording: Recording) -> bool:
    """Close and repair one open recording whose writer is dead. False if another recoverer has it."""
    claim = f"recovering:{writer_id()}"
    taken = Recording.objects.filter(pk=recording.pk, ended_at__isnull=True, writer=recording.writer).update(
        writer=claim
    )
    if not taken:
        return False
    name = recording.file.name
    path = storage.local_path(name)
    duration, packets = 0.0, 0
    if path.exists() and path.stat().st_size:
        repaired = path.with_name(path.name + ".recovered")
        try:
            duration, packets = remux(path, repaired, recording.container)
            os.replace(repaired, path)
        except (av.FFmpegError, OSError, IndexError):
            logger.exception("recording %s could not be repaired; kept as it was", recording.pk)
            repaired.unlink(missing_ok=True)
            duration = recording.duration
        name = storage.publish(name, path)
    ended = recording.started_at + timedelta(seconds=duration)
    Recording.objects.filter(pk=recording.pk, writer=claim).update(
        file=name,
        size=storage.size_of(name),
        duration=round(duration, 3),
        ended_at=ended,
        writer="",
        recovered=True,
        heartbeat_at=timezone.now(),
    )
    logger.info("recovered recording %s (%d packets, %.1f s)", recording.pk, packets, duration)
    mark_ready(room_id=recording.replay.room_id)
    return True


def recover_dead(*, now: datetime | None = None, stale_only: bool = False) -> int:
    """Recover the open recordings of dead writers: this machine's whose process is gone (unless
    `stale_only`), and anyone's not flushed for RECORDING_STALE_AFTER seconds."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RECORDING_STALE_AFTER)
    open_ = Recording.objects.filter(ended_at__isnull=True).select_related("replay")
    done = 0
    for recording in open_.filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)):
        if recording.writer.startswith("recovering:") and not _dead_here(recording.writer.split(":", 1)[1]):
            continue
        done += _safely(recording)
    if not stale_only:
        for recording in open_.filter(heartbeat_at__gte=cutoff):
            if _dead_here(recording.writer):
                done += _safely(recording)
    return done


def _safely(recording: Recording) -> int:
    try:
        return int(recover(recording))
    except Exception:
        logger.exception("recovering recording %s failed", recording.pk)
        return 0


def sweep() -> dict[str, int]:
    """The beat task: recover what dead writers left, then mark ready every replay whose live ended
    and whose recordings are all closed (a process that died at the end of a live never did)."""
    recovered = recover_dead()
    waiting = Replay.objects.filter(ready_at__isnull=True, deleted_at__isnull=True, room__status="ended")
    ready = sum(mark_ready(room_id=room_id) for room_id in waiting.values_list("room_id", flat=True))
    return {"recovered": recovered, "ready": ready}


_started = False


def on_process_start() -> None:
    """Under daphne, once the server runs: recover this machine's recordings whose process died
    (a thread, so start-up never waits on it). Elsewhere (tests, management commands) nothing."""
    global _started
    if _started or "twisted.internet.reactor" not in sys.modules:
        return
    _started = True
    from twisted.internet import reactor

    def run() -> None:
        try:
            count = recover_dead()
            if count:
                logger.info("recovered %d recording(s) left open by a dead process", count)
        except Exception:
            logger.exception("recovering recordings at start-up failed")
        finally:
            connections.close_all()

    reactor.callWhenRunning(lambda: threading.Thread(target=run, name="recording-recovery", daemon=True).start())
