"""Once per track, never per viewer: one seat's video re-encoded for the viewers of another codec.

A viewer's connection negotiates one video codec (VP8 or H.264) for good, while the publisher of a
seat may send either (a browser VP8, FFmpeg/OBS H.264). Viewers whose codec matches the
publisher's get its frames as they are; for the others the relay keeps ONE `Transcoder` per seat
and codec: it decodes the seat's frames once and encodes them once, and every viewer of that codec
shares the result (`media.relay`). It exists only while such a viewer is watching that seat.

The codec work runs in the transcoder's own thread, fed through a bounded queue, so the event loop
only hands frames over. Decoding is cheap and must see every frame (each depends on the previous
one); encoding is where the time goes, so a transcoder falling behind (a busy machine) skips
encoding frames while a backlog waits: its viewers get fewer frames per second, not a frozen
picture. Only a full queue drops frames, and then it restarts at the publisher's next key frame.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import av
from av.video.frame import PictureType

from media.vp8 import VIDEO_TIME_BASE

logger = logging.getLogger(__name__)

#: frames waiting for the transcoder thread before it counts as overloaded (~0.5 s at 30 fps)
MAX_BACKLOG = 15
#: with this many frames waiting, decode the next one but do not encode it (catch up)
SKIP_ENCODE_BACKLOG = 2
#: bits per second of the re-encoded stream
BITRATE = 1_000_000
#: a key frame at least this often (frames), besides the ones viewers ask for
GOP = 300
#: seconds a closing relay waits for a transcoder thread to finish its frame
STOP_WAIT = 5.0
#: at most one requested key frame per this many seconds (a key frame costs several delta frames;
#: every viewer that joins or lost packets asks, and they must not make every frame a key frame)
MIN_KEYFRAME_GAP = 0.5

DECODER = {"vp8": "libvpx", "h264": "h264"}
ENCODER = {"vp8": "libvpx", "h264": "libx264"}
ENCODER_OPTIONS = {
    "vp8": {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "auto-alt-ref": "0", "error-resilient": "1"},
    # constrained baseline (no B-frames), SPS/PPS in band before every IDR, forced key frames are IDRs
    "h264": {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "forced-idr": "1"},
}

Emit = Callable[["av.Packet[Any]", bool], None]


class Transcoder:
    """Decode `source` frames of one seat, encode them as `target`, hand each packet to `emit`
    (called on the event loop). `need_keyframe` asks the publisher for a key frame."""

    def __init__(self, source: str, target: str, *, emit: Emit, need_keyframe: Callable[[], None]) -> None:
        if source not in DECODER or target not in ENCODER or source == target:
            raise ValueError(f"cannot transcode {source!r} to {target!r}")
        self.source = source
        self.target = target
        self._emit = emit
        self._need_keyframe = need_keyframe
        self._loop = asyncio.get_running_loop()
        self._queue: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=MAX_BACKLOG)
        self._force_keyframe = threading.Event()
        self._waiting_for_key = True  # a decoder starts at a key frame
        self._stopped = False
        # counters (tests, bench)
        self.frames_in = 0
        self.frames_out = 0
        self.keyframes_out = 0
        self.skipped = 0  # decoded, not encoded (catching up)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"transcode-{source}-{target}", daemon=True)
        self._thread.start()

    # -- event loop side
    def feed(self, data: bytes, pts: int, keyframe: bool) -> None:
        """One encoded source frame (pts in 1/90000 s)."""
        if self._stopped:
            return
        if self._waiting_for_key:
            if not keyframe:
                self.dropped += 1
                self._need_keyframe()
                return
            self._waiting_for_key = False
        try:
            self._queue.put_nowait((data, pts))
            self.frames_in += 1
        except queue.Full:
            self.dropped += 1
            self._waiting_for_key = True  # the decoder would see a gap: restart at a key frame
            self._need_keyframe()

    def force_keyframe(self) -> None:
        """Encode a key frame soon (a viewer joined or lost packets): the next frame, or the first
        one MIN_KEYFRAME_GAP after the last requested key frame."""
        self._force_keyframe.set()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        while True:  # make room for the stop marker
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    async def stopped(self) -> None:
        """Stop, and wait (off the event loop, at most STOP_WAIT s) until the thread is done."""
        self.stop()
        await asyncio.to_thread(self._thread.join, STOP_WAIT)

    # -- transcoder thread
    def _encoder(self, frame: av.VideoFrame) -> Any:
        encoder: Any = av.CodecContext.create(ENCODER[self.target], "w")
        encoder.width = frame.width
        encoder.height = frame.height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = VIDEO_TIME_BASE
        encoder.framerate = 30
        encoder.bit_rate = BITRATE
        encoder.gop_size = GOP
        encoder.max_b_frames = 0
        encoder.thread_count = 1  # one core's worth per seat at most; frame threads would add delay
        encoder.options = dict(ENCODER_OPTIONS[self.target])
        return encoder

    def _run(self) -> None:
        decoder: Any = av.CodecContext.create(DECODER[self.source], "r")
        decoder.thread_count = 1  # frame threading would hold frames back (latency) for no gain here
        encoder: Any = None
        last_forced = -MIN_KEYFRAME_GAP
        while True:
            item = self._queue.get()
            if item is None:
                return
            data, pts = item
            packet = av.Packet(data)
            packet.pts = packet.dts = pts
            packet.time_base = VIDEO_TIME_BASE
            try:
                frames = decoder.decode(packet)
            except av.FFmpegError as exc:
                logger.debug("transcode %s->%s: undecodable frame: %s", self.source, self.target, exc)
                if not self._post(self._lost_sync):
                    return
                continue
            if encoder is not None and self._queue.qsize() >= SKIP_ENCODE_BACKLOG:
                self.skipped += len(frames)
                continue
            for frame in frames:
                if encoder is None or (encoder.width, encoder.height) != (frame.width, frame.height):
                    encoder = self._encoder(frame)
                    self._force_keyframe.set()
                frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
                frame.pts = pts
                frame.time_base = VIDEO_TIME_BASE
                now = time.monotonic()
                if self._force_keyframe.is_set() and now - last_forced >= MIN_KEYFRAME_GAP:
                    self._force_keyframe.clear()
                    last_forced = now
                    frame.pict_type = PictureType.I
                else:
                    frame.pict_type = PictureType.NONE
                for out in encoder.encode(frame):
                    out.time_base = VIDEO_TIME_BASE
                    if not self._post(self._deliver, out, bool(out.is_keyframe)):
                        return

    def _post(self, callback: Callable[..., None], *args: Any) -> bool:
        """Run `callback` on the event loop; False once that loop is gone (nothing left to serve)."""
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _lost_sync(self) -> None:
        self._waiting_for_key = True
        self._need_keyframe()

    def _deliver(self, packet: av.Packet[Any], keyframe: bool) -> None:
        if self._stopped:
            return
        self.frames_out += 1
        self.keyframes_out += keyframe
        self._emit(packet, keyframe)
