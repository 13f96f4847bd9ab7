"""Pass-through plumbing on top of aiortc: encoded frames in, encoded frames out, no codec work.

Publisher side: aiortc's `RTCRtpReceiver` reassembles RTP packets into encoded frames
(`JitterFrame`: `.data` depayloaded bytes, `.timestamp` unwrapped RTP timestamp) and hands them to
a decoder thread through a private queue. `FrameSink` replaces that queue: `put()` runs on the
event loop and passes the encoded frame straight to the relay; `get()` (called by the decoder
thread) just blocks until the receiver stops, so the thread idles and exits without ever
creating a decoder.

Viewer side: `SlotTrack` is a `MediaStreamTrack` whose `recv()` returns shared `av.Packet`s;
aiortc's `RTCRtpSender` then only *packs* them (see `RTCRtpSender._next_encoded_frame`). The
sender's encoder slot is pre-filled with a packer (`media.vp8`, `media.h264`) for the codec the
viewer negotiated, so no encoder is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from media.h264 import H264Packer
from media.vp8 import OpusPacker, Packer, Vp8Packer

logger = logging.getLogger(__name__)

#: per-slot queue bounds (frames): ~1 s of video at 30 fps, ~1 s of Opus at 20 ms
MAX_QUEUED = {"video": 30, "audio": 50}

#: (codec, data, timestamp): codec is the lower-case mime subtype ("vp8", "h264", "opus")
FrameCallback = Callable[[str, bytes, int], None]


class FrameSink:
    """Stands in for `RTCRtpReceiver.__decoder_queue` (a `queue.Queue` of `(codec, frame)` / None)."""

    def __init__(self, on_frame: FrameCallback) -> None:
        self._on_frame = on_frame
        self._stopped = threading.Event()
        self.frames = 0

    def put(self, item: tuple[Any, Any] | None) -> None:
        if item is None:
            self._stopped.set()
            return
        if self._stopped.is_set():
            return
        codec, frame = item
        self.frames += 1
        try:
            self._on_frame(codec_name(codec), bytes(frame.data), int(frame.timestamp))
        except Exception:
            # never let a relay bug escape into aiortc's transport loop (it would stop receiving)
            logger.exception("relay frame handler failed")

    def get(self, block: bool = True, timeout: float | None = None) -> None:
        """Called by aiortc's decoder thread: park until the receiver stops, then say 'done'."""
        self._stopped.wait()
        return None

    def stop(self) -> None:
        self._stopped.set()


def install_sink(receiver: Any, on_frame: FrameCallback) -> FrameSink:
    """Replace the receiver's decoder queue; must run before `receive()` starts its thread."""
    if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is not None:
        raise RuntimeError("receiver already started; install the sink before negotiation completes")
    sink = FrameSink(on_frame)
    receiver._RTCRtpReceiver__decoder_queue = sink
    return sink


def codec_name(codec: Any) -> str:
    """The lower-case mime subtype of an RTCRtpCodecParameters: "vp8", "h264", "opus"."""
    return str(codec.mimeType).split("/")[-1].lower()


PACKERS: dict[str, Callable[[], Packer]] = {"vp8": Vp8Packer, "h264": H264Packer, "opus": OpusPacker}


def install_packer(sender: Any, codec: str) -> Packer:
    """Pre-fill the sender's encoder slot with a packer so aiortc never builds an encoder."""
    packer = PACKERS[codec]()
    sender._RTCRtpSender__encoder = packer
    return packer


def pack_as_negotiated(sender: Any, slot: SlotTrack) -> None:
    """When the sender starts with its negotiated codec, give it the packer for that codec and tell
    the slot which codec it carries (the relay feeds it frames of that codec only)."""
    start = sender.send

    async def send(parameters: Any) -> None:
        codec = codec_name(parameters.codecs[0])
        slot.codec = codec
        install_packer(sender, codec)
        await start(parameters)

    sender.send = send


class SlotTrack(MediaStreamTrack):
    """One viewer's view of one seat's audio or video: a bounded queue of shared encoded packets.

    Video starts gated (nothing is forwarded until a key frame). The track never ends on its own
    when the seat's publisher leaves: `recv()` simply waits for the next publisher.
    """

    def __init__(
        self,
        kind: str,
        seat: int,
        *,
        need_keyframe: Callable[[int], None],
        max_queued: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.seat = seat
        self._need_keyframe = need_keyframe
        self._max = max_queued if max_queued is not None else MAX_QUEUED[kind]
        self._queue: deque[av.Packet[Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.active = False  # set once the sender pulls (the viewer's transport is up)
        # the codec the viewer's connection negotiated for this slot (set when its sender starts)
        self.codec: str | None = "opus" if kind == "audio" else None
        self.gated = kind == "video"
        # counters (tests, metrics)
        self.forwarded = 0
        self.dropped = 0
        self.overflows = 0
        # called (then dropped) when the sender takes the slot's first frame (the relay times a
        # viewer's first video frame): one attribute test per frame, none per packet
        self.on_first: Callable[[], None] | None = None

    # -- producer side (relay, on the event loop) -------------------------------------------
    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        if not self.active or self.readyState != "live":
            return
        if self.gated:
            if not keyframe:
                self.dropped += 1
                self._need_keyframe(self.seat)
                return
            self.gated = False
        if len(self._queue) >= self._max:
            # slow viewer: drop the backlog rather than grow; video restarts at a key frame
            self.overflows += 1
            self.dropped += len(self._queue)
            self._queue.clear()
            if self.kind == "video" and not keyframe:
                self.gated = True
                self.dropped += 1
                self._need_keyframe(self.seat)
                return
        self._queue.append(packet)
        self._wake()

    def gate(self) -> None:
        """Drop what is queued and wait for the next key frame (video) before forwarding again."""
        self.flush()
        if self.kind == "video":
            self.gated = True

    def flush(self) -> None:
        self.dropped += len(self._queue)
        self._queue.clear()

    def queued(self) -> int:
        return len(self._queue)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- consumer side (aiortc's RTCRtpSender) ------------------------------------------------
    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if not self.active:
            self.active = True
            if self.kind == "video":
                self._need_keyframe(self.seat)
        while not self._queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
            if self.readyState != "live":
                raise MediaStreamError
        self.forwarded += 1
        if self.on_first is not None:
            on_first, self.on_first = self.on_first, None
            on_first()
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        with contextlib.suppress(Exception):
            self._wake()
