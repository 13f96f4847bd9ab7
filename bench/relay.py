"""Media relay benchmark: one full live room (4 publishers), N WHEP viewers, liverooms vs aiortc's MediaRelay.

    .venv/bin/python bench/relay.py [--viewers 60] [--step 10] [--stock-viewers 2] [--window 6]
    .venv/bin/python bench/relay.py --codecs 20     # VP8 vs H.264 paths (pass-through, transcoded)

One run, two servers one after the other, each its own process, same load:

- `liverooms`: `daphne liverooms.asgi:application` on a throwaway SQLite database (a temporary
  directory), one live room made with `rooms.actions.create_room`, guests seated with
  `rooms.seats.seat_user`; publishers POST `/rooms/<slug>/whip` with their seat's publish token.
- `stock`: bench/stock_relay_app.py under daphne: aiortc's `MediaRelay` (decode once, encode
  per viewer), `POST /whip/<seat>` and `POST /whep`.

Load, in separate processes: one publisher process (4 seats, VP8 640x360 at 30 fps + Opus 20 ms,
each over its own WHIP peer connection) and `--load-procs` viewer processes (WHEP, 4 x (audio +
video) recvonly, max-bundle). Publishers do not encode live: a 4 s clip (moving noise texture,
~0.8 Mbit/s CBR, a key frame every 2 s) is encoded once with libvpx / libopus, and a track that
returns `av.Packet`s feeds it to aiortc's sender, which then only packetizes. A PLI from the relay
makes the seat restart the clip at its key frame (as a browser would send a key frame). Viewers
do not decode either: each receiver's decoder queue is replaced by a counter of complete
frames (the frames aiortc's jitter buffer hands to the decoder); only the first video frame
per track is decoded, to time WHEP POST -> first decoded frame. Once every video track of a
viewer has decoded a frame, the viewer counts frames from the RTP headers instead (`LightReceive`;
`--full-viewers` keeps aiortc's whole receive path), which halves the load's CPU per viewer.

Measured per step of N viewers, over a steady window: server CPU (utime + stime of the daphne
process, /proc) per second, minus the same with the 4 publishers and no viewer, divided by N;
delivered video and audio frames/s of every viewer track (the minimum is what counts); WHEP POST
to first decoded frame (any seat, and all 4 seats) of the viewers of that step; server RSS; the
CPU of the load processes and of other processes (they share the 2 cores with the server).
liverooms grows N by `--step` until a viewer gets under 29 video fps or 48 audio frames/s (then
one step back at the midpoint), the stock relay runs 1..`--stock-viewers` viewers. Then py-spy
samples the liverooms server during one more window at the last N and the script prints where its
time goes.

`--edge`: instead, the capacity of one process against an origin + an edge (docs/deploy.md), same
run: both layouts on Redis, viewers split evenly over the processes, most of them sinks whose RTP
the kernel drops (`--counted` K per load process count frames), so the load leaves the cores to the
servers; the servers' own packet counters (/metrics) check that the sinks were sent their share.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from processes import log_tail, stop_process  # bench/processes.py (the scripts run from bench/)
from processes import server_env as processes_server_env

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"
SEATS = 4
WIDTH, HEIGHT, FPS = 640, 360, 30
CLIP_SECONDS = 4
KEYFRAME_EVERY = 60  # frames: a key frame every 2 s
VIDEO_BITRATE = 800_000
FPS_TARGET = 29.0
AUDIO_TARGET = 48.0  # Opus frames/s (50 sent): a viewer losing audio does not pass either
CONNECT_TIMEOUT = 20.0
COMMAND_TIMEOUT = 120.0

SETUP_SNIPPET = """
import json
import django
django.setup()
from django.contrib.auth.models import User
from rooms.actions import create_room
from rooms.models import Seat
from rooms.seats import seat_user
host = User.objects.create_user("benchhost")
room = create_room(host=host, title="Relay benchmark")
for index in (1, 2, 3):
    seat_user(room=room, user=User.objects.create_user(f"benchguest{index}"), index=index)
tokens = [seat.publish_token for seat in Seat.objects.filter(room=room).order_by("index")]
print(json.dumps({"slug": room.slug, "tokens": tokens}))
"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- /proc readings --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def udp_drops(pids: list[int]) -> int:
    """Datagrams the kernel dropped on these processes' UDP sockets (full receive buffers), so far."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 12 and fields[9] in inodes:
                    drops += int(fields[-1])
    return drops


def machine_busy_seconds() -> float:
    """CPU seconds used on the whole machine so far (all cores, everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


def wait_for_quiet(within: float) -> None:
    """Wait (at most `within` s) until other jobs use under 0.3 core: they would skew the figures."""
    deadline = time.monotonic() + within
    busy = 0.0
    for _ in range(math.ceil(within / 2) + 1):
        before = machine_busy_seconds()
        time.sleep(2.0)
        busy = (machine_busy_seconds() - before) / 2.0
        if busy < 0.3 or time.monotonic() >= deadline:
            break
        say(f"other jobs use {busy:.1f} cores; waiting for a quiet machine")
    if busy >= 0.3:
        say(f"warning: other jobs use {busy:.1f} cores; figures will be skewed")


# --- the clip (encoded once, in the publisher process) ----------------------------------------


def is_h264_keyframe(data: bytes) -> bool:
    """An Annex B access unit with an IDR slice (NAL type 5)."""
    return any(data[i + 3] & 0x1F == 5 for i in range(len(data) - 3) if data[i : i + 3] == b"\x00\x00\x01")


def is_keyframe(codec: str, data: bytes) -> bool:
    return is_h264_keyframe(data) if codec == "h264" else bool(data) and not data[0] & 1


def video_encoder(codec: str) -> Any:
    """libvpx (VP8) or libx264 (H.264 constrained baseline, SPS/PPS before each IDR), ~0.8 Mbit/s CBR."""
    video = av.CodecContext.create("libvpx" if codec == "vp8" else "libx264", "w")
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    video.time_base = Fraction(1, FPS)
    video.framerate = Fraction(FPS, 1)
    video.bit_rate = VIDEO_BITRATE
    video.gop_size = KEYFRAME_EVERY
    video.max_b_frames = 0
    if codec == "vp8":
        video.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "minrate": str(VIDEO_BITRATE),
            "maxrate": str(VIDEO_BITRATE),
            "bufsize": str(VIDEO_BITRATE),
            "keyint_min": str(KEYFRAME_EVERY),
        }
    else:
        kbps = VIDEO_BITRATE // 1000
        video.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "profile": "baseline",
            "forced-idr": "1",
            "x264-params": f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:keyint={KEYFRAME_EVERY}:scenecut=0",
        }
    return video


def encode_clip(codec: str = "vp8") -> tuple[list[bytes], list[bytes]]:
    """Video frames (VP8 or H.264, 640x360, 30 fps, CBR ~0.8 Mbit/s, key frames at 0 and 2 s) and
    20 ms Opus frames."""
    rng = random.Random(7)  # noqa: S311 - test pattern
    block = 8
    columns = (2 * WIDTH) // block
    texture = []
    for _ in range(HEIGHT // block):
        row = b"".join(bytes([rng.randrange(16, 236)]) * block for _ in range(columns))
        texture.extend([row] * block)
    video = video_encoder(codec)
    frames: list[bytes] = []
    total = CLIP_SECONDS * FPS
    for index in range(total + 1):
        picture = None
        if index < total:
            picture = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            shift = (index * 6) % WIDTH
            band = (index * 3) % HEIGHT
            rows = [texture[y][shift : shift + WIDTH] for y in range(HEIGHT)]
            rows[band] = bytes([235]) * WIDTH  # a moving bright line
            luma = picture.planes[0]
            luma.update(b"".join(row + bytes(luma.line_size - WIDTH) for row in rows))
            for plane, value in zip(picture.planes[1:], (100 + index % 56, 160 - index % 56), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            picture.pts = index
            picture.pict_type = av.video.frame.PictureType.I if index % KEYFRAME_EVERY == 0 else 0
        frames.extend(bytes(packet) for packet in video.encode(picture))
    audio = av.CodecContext.create("libopus", "w")
    audio.sample_rate, audio.format, audio.layout = 48_000, "s16", "mono"
    audio.bit_rate = 32_000
    audio.time_base = Fraction(1, 48_000)
    sounds: list[bytes] = []
    for index in range(51):
        chunk = None
        if index < 50:
            chunk = av.AudioFrame(format="s16", layout="mono", samples=960)
            samples = [int(8000 * math.sin(2 * math.pi * 440 * (index * 960 + i) / 48_000)) for i in range(960)]
            chunk.planes[0].update(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
            chunk.sample_rate, chunk.pts, chunk.time_base = 48_000, index * 960, Fraction(1, 48_000)
        sounds.extend(bytes(packet) for packet in audio.encode(chunk))
    return frames, sounds


# --- load processes ----------------------------------------------------------------------------


def _rtc_config() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


async def http_post(port: int, path: str, body: str, token: str | None = None) -> tuple[int, str]:
    """POST application/sdp to the server under test; (status, body). HTTP/1.1, Connection: close."""
    data = body.encode()
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/sdp",
        f"Content-Length: {len(data)}",
        "Connection: close",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10.0)
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 30.0)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    header, _, payload = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    return status, payload.decode("utf-8", "replace")


async def wait_connected(pc: Any, within: float = CONNECT_TIMEOUT) -> bool:
    deadline = time.monotonic() + within
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed") or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class ClipTrack(MediaStreamTrack):
    """A track of pre-encoded frames, paced in real time; `restart()` (a PLI) jumps to the clip's key frame."""

    def __init__(self, kind: str, frames: list[bytes], interval: float, step: int, clock: int, skip: int) -> None:
        super().__init__()
        self.kind = kind
        self.frames = frames
        self.interval = interval
        self.step = step
        self.time_base = Fraction(1, clock)
        self.index = skip % len(frames)
        self.sent = 0
        self.start: float | None = None
        self.restarts = 0
        self.want_restart = False

    def restart(self) -> None:
        self.want_restart = True

    async def recv(self) -> av.Packet:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        delay = self.start + self.sent * self.interval - now
        if delay > 0:
            await asyncio.sleep(delay)
        if self.want_restart:
            self.want_restart = False
            self.restarts += 1
            self.index = 0
        packet = av.Packet(self.frames[self.index])
        self.index = (self.index + 1) % len(self.frames)
        packet.pts = self.sent * self.step
        packet.dts = packet.pts
        packet.time_base = self.time_base
        self.sent += 1
        return packet


class TrackCounter:
    """Stands in for `RTCRtpReceiver.__decoder_queue`: counts complete frames, decodes only the first video one."""

    def __init__(self, kind: str, viewer: ViewerState) -> None:
        self.kind = kind
        self.viewer = viewer
        self.frames = 0
        self.decoded_at: float | None = None
        self.tries = 0
        self.decoder: Any = None
        self.stopped = threading.Event()
        self.last_seq: int | None = None  # light mode (see LightReceive)
        self.broken = False

    def put(self, item: Any) -> None:
        if item is None:
            self.stopped.set()
            return
        self.frames += 1
        if self.kind == "video" and self.decoded_at is None and self.tries < 90:
            self.tries += 1
            self._decode(str(item[0].mimeType).split("/")[-1].lower(), bytes(item[1].data))

    def _decode(self, codec: str, data: bytes) -> None:
        if self.decoder is None:
            self.decoder = av.CodecContext.create(codec, "r")
        try:
            decoded = self.decoder.decode(av.Packet(data))
        except av.FFmpegError:
            return
        if decoded:
            self.decoded_at = time.monotonic()
            self.decoder = None

    def get(self, block: bool = True, timeout: float | None = None) -> None:
        self.stopped.wait()  # aiortc's decoder thread parks here until the receiver stops

    def stop(self) -> None:
        self.stopped.set()

    def packet(self, marker: bool, seq: int) -> None:
        """Light mode: one RTP packet; a video frame counts when it ends (marker) with no sequence gap."""
        if self.last_seq is not None and seq != (self.last_seq + 1) & 0xFFFF:
            self.broken = True
        self.last_seq = seq
        if self.kind == "audio":
            self.frames += 1  # one Opus frame per packet
        elif marker:
            if not self.broken:
                self.frames += 1
            self.broken = False


class LightReceive:
    """Light viewer mode, once every track has its first decoded frame: count frames from the RTP header.

    Replaces, on the viewer's (bundled) DTLS transport, SRTP unprotect of RTP (not of RTCP) and the
    RTP handler: the RTP header is not encrypted by SRTP, so ssrc / sequence number / marker are
    read as they arrive and aiortc's per-packet RTP parsing, NACK and jitter-buffer work is skipped.
    """

    def __init__(self, srtp: Any, by_ssrc: dict[int, TrackCounter], viewer: ViewerState) -> None:
        self.viewer = viewer
        self.srtp = srtp
        self.by_ssrc = by_ssrc
        self.unprotect_rtcp = srtp.unprotect_rtcp
        self.unknown = 0  # RTP packets of other streams (RTX, ...)

    def unprotect(self, data: bytes) -> bytes:
        return data

    async def handle_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        if len(data) >= 12:
            self.count(data)

    def count(self, data: bytes) -> None:
        self.viewer.packets += 1
        counter = self.by_ssrc.get(int.from_bytes(data[8:12], "big"))
        if counter is not None:
            counter.packet(bool(data[1] & 0x80), (data[2] << 8) | data[3])
        else:  # RTX and unknown streams are not counted as frames
            self.unknown += 1


class DirectReceive:
    """Light mode's front door: RTP is counted as the datagram arrives, before aioice sees it.

    Wraps `datagram_received` of the viewer's ICE sockets (aioice's StunProtocol). An RTP packet
    (first byte 0b10xxxxxx, second byte not an RTCP packet type) goes straight to
    `LightReceive.count`; STUN, DTLS and RTCP take aioice's path as before (so consent checks are
    answered and the connection stays up). This skips, per packet, aioice's failed STUN parse,
    its queue, and the DTLS transport's receive task: the viewer's cost falls from ~30 to a few µs
    a packet, so the load leaves the box's cores to the servers under test. Used with `--counted`
    (and `--edge`) only: with it the server's own CPU per viewer measured ~25 % higher than with
    the default light mode (22 against 17 ms/s at 40 viewers, 2026-12-02), for reasons not
    understood (the kernel's loopback receive work is charged to the sender, and how often the
    receiver sleeps changes it), so the default sweep keeps the light mode its history was measured with.
    """

    def __init__(self, light: LightReceive, original: Any) -> None:
        self.light = light
        self.original = original

    def __call__(self, data: bytes, addr: Any) -> None:
        if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 209:
            self.light.count(data)
        else:
            self.original(data, addr)


#: SO_ATTACH_FILTER (asm-generic/socket.h) and a classic BPF program for a viewer's UDP socket that
#: drops RTP in the kernel and lets everything else through: UDP payload byte 0 in 128..191 is
#: RTP or RTCP (RFC 7983), and byte 1 in 192..208 is RTCP (aiortc's `is_rtcp`). The program sees
#: the datagram from its UDP header, so the payload starts at offset 8.
SO_ATTACH_FILTER = 26
RTP_DROP_FILTER = [
    (0x30, 0, 0, 8),  # A = payload[0]
    (0x35, 0, 4, 128),  # A >= 128 ? next : accept
    (0x35, 3, 0, 192),  # A >= 192 ? accept : next
    (0x30, 0, 0, 9),  # A = payload[1]
    (0x35, 0, 2, 192),  # A >= 192 ? next : drop (RTP)
    (0x35, 1, 0, 209),  # A >= 209 ? drop (RTP with the marker bit) : accept (RTCP)
    (0x06, 0, 0, 0x40000),  # accept
    (0x06, 0, 0, 0),  # drop
]


def drop_rtp_in_kernel(sock: Any) -> None:
    """Attach RTP_DROP_FILTER to `sock`: its RTP never reaches user space (STUN, DTLS, RTCP still do)."""
    import ctypes
    import struct

    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in RTP_DROP_FILTER))
    program = struct.pack("HL", len(RTP_DROP_FILTER), ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)  # the kernel copies the program


@dataclass(eq=False)
class ViewerState:
    number: int
    pc: Any = None
    posted_at: float = 0.0
    answered_at: float | None = None  # WHEP answer received
    connected_at: float | None = None  # ICE + DTLS done
    connected: bool = False
    light: bool = False  # switched to LightReceive
    sink: bool = False  # its RTP is dropped in the kernel (--counted): not counted, costs the load nothing
    light_receive: LightReceive | None = None
    packets: int | None = None  # RTP packets received since connected (the relay's packets out to us)
    error: str = ""
    tracks: list[TrackCounter] = field(default_factory=list)

    def first_frames(self) -> tuple[float | None, float | None]:
        times = [t.decoded_at for t in self.tracks if t.kind == "video"]
        done = [t - self.posted_at for t in times if t is not None]
        return (min(done) if done else None), (max(done) if len(done) == len(times) and done else None)


class LoadWorker:
    """One load process: publishers or viewers, driven by commands over a pipe."""

    def __init__(self, conn: Connection, role: str, light: bool = True, counted: int | None = None) -> None:
        self.conn = conn
        self.role = role
        self.light = light
        self.counted = counted  # viewers of this process that count frames; the others sink (None: all count)
        self.tasks: set[asyncio.Task[None]] = set()
        self.pcs: list[Any] = []
        self.viewers: list[ViewerState] = []
        self.tracks: list[Any] = []
        self.clips: dict[str, tuple[list[bytes], list[bytes]]] = {}

    def run(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and tells us to close
        asyncio.run(self.main())

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[Any] = asyncio.Queue()
        loop.add_reader(self.conn.fileno(), lambda: commands.put_nowait(self._read()))
        try:
            for _ in range(100_000):  # bounded: a run sends a few dozen commands
                command = await commands.get()
                if command is None or command[0] == "close":
                    break
                try:
                    reply = await getattr(self, "do_" + command[0])(*command[1:])
                except Exception as error:
                    reply = {"error": f"{type(error).__name__}: {error}"}
                self.conn.send(reply)
        finally:
            loop.remove_reader(self.conn.fileno())
            await asyncio.wait_for(asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True), 20.0)
            with contextlib.suppress(OSError):
                self.conn.send({"closed": True})

    def _read(self) -> Any:
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    async def do_publish(self, port: int, seats: list[tuple[str, str | None]], codec: str = "vp8") -> dict[str, Any]:
        clip_info = None
        if codec not in self.clips:
            started = time.monotonic()
            self.clips[codec] = encode_clip(codec)
            frames, sounds = self.clips[codec]
            keys = sum(1 for f in frames if is_keyframe(codec, f))
            clip_info = {
                "encode_s": round(time.monotonic() - started, 2),
                "video_kbps": round(sum(map(len, frames)) * 8 / CLIP_SECONDS / 1000),
                "video_frames": len(frames),
                "key_frames": keys,
                "key_frame_bytes": len(frames[0]),
                "audio_kbps": round(sum(map(len, sounds)) * 8 / (len(sounds) * 0.02) / 1000),
            }
        frames, sounds = self.clips[codec]
        self.pcs.clear()
        self.tracks.clear()
        for seat, (path, token) in enumerate(seats):
            pc = RTCPeerConnection(configuration=_rtc_config())
            audio = ClipTrack("audio", sounds, 0.02, 960, 48_000, seat * 7)
            video = ClipTrack("video", frames, 1 / FPS, 90_000 // FPS, 90_000, seat * 15)
            for track in (audio, video):
                transceiver = pc.addTransceiver(track, direction="sendonly")
                wanted = (f"video/{codec}", "video/rtx") if track.kind == "video" else ("audio/opus",)
                codecs = RTCRtpSender.getCapabilities(track.kind).codecs
                transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])
                if track.kind == "video":
                    transceiver.sender._send_keyframe = track.restart  # PLI -> restart at the key frame
            self.pcs.append(pc)
            self.tracks.append(video)
            await pc.setLocalDescription(await pc.createOffer())
            status, answer = await http_post(port, path, pc.localDescription.sdp, token)
            if status != 201:
                raise RuntimeError(f"WHIP seat {seat}: HTTP {status} {answer.strip()[:200]}")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        states = await asyncio.gather(*(wait_connected(pc) for pc in self.pcs))
        if not all(states):
            raise RuntimeError(f"publishers connected: {states}")
        return {"ok": True, "clip": clip_info}

    async def do_watch(
        self, port: int, path: str, count: int, first_number: int, codec: str | None = None
    ) -> dict[str, Any]:
        new = [ViewerState(first_number + i) for i in range(count)]
        self.viewers.extend(new)
        gate = asyncio.Semaphore(4)

        async def one(viewer: ViewerState) -> None:
            async with gate:
                await self._open_viewer(viewer, port, path, codec)

        await asyncio.gather(*(one(v) for v in new))
        failed = [v.error for v in new if not v.connected]
        return {"ok": True, "connected": count - len(failed), "errors": failed[:3]}

    async def _open_viewer(self, viewer: ViewerState, port: int, path: str, codec: str | None = None) -> None:
        """`codec` ("vp8" / "h264"): offer only that video codec (default: aiortc's list, VP8 first)."""
        pc = RTCPeerConnection(configuration=_rtc_config())
        viewer.pc = pc
        self.pcs.append(pc)
        for _ in range(SEATS):
            for kind in ("audio", "video"):
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                if kind == "video" and codec is not None:
                    wanted = (f"video/{codec}", "video/rtx")
                    codecs = RTCRtpSender.getCapabilities("video").codecs
                    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])
                receiver = transceiver.receiver
                counter = TrackCounter(kind, viewer)
                receiver._RTCRtpReceiver__decoder_queue = counter
                viewer.tracks.append(counter)
        try:
            await pc.setLocalDescription(await pc.createOffer())
            viewer.posted_at = time.monotonic()
            status, answer = await http_post(port, path, pc.localDescription.sdp)
            if status != 201:
                raise RuntimeError(f"WHEP: HTTP {status} {answer.strip()[:200]}")
            viewer.answered_at = time.monotonic()
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            self._count_packets(viewer)
            viewer.connected = await wait_connected(pc)
            viewer.connected_at = time.monotonic()
            if not viewer.connected:
                viewer.error = f"connection state {pc.connectionState}"
            elif self.light:
                task = asyncio.ensure_future(self._go_light(viewer))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        except Exception as error:
            viewer.error = f"{type(error).__name__}: {error}"

    @staticmethod
    def _count_packets(viewer: ViewerState) -> None:
        """Count every RTP packet (after SRTP) on the viewer's bundled transport, from now on;
        LightReceive counts on the same counter once it takes over."""
        dtls = viewer.pc.getTransceivers()[0].receiver.transport
        handle = dtls._handle_rtp_data
        viewer.packets = 0

        async def counted(data: bytes, arrival_time_ms: int) -> None:
            viewer.packets = (viewer.packets or 0) + 1
            await handle(data, arrival_time_ms=arrival_time_ms)

        dtls._handle_rtp_data = counted

    async def do_probe(self, port: int, path: str, count: int) -> dict[str, Any]:
        """Viewers joining one at a time (the room at its current load): WHEP POST -> first decoded frames."""
        results = []
        for number in range(count):
            await asyncio.sleep(0.7)  # past the relay's key-frame request interval (0.5 s): isolated joins
            viewer = ViewerState(-1 - number)
            light, self.light = self.light, False
            try:
                await self._open_viewer(viewer, port, path)
            finally:
                self.light = light
            for _ in range(1000):  # 10 s at most
                if not viewer.connected or viewer.first_frames()[1] is not None:
                    break
                await asyncio.sleep(0.01)
            first_any, first_all = viewer.first_frames()
            answer = viewer.answered_at - viewer.posted_at if viewer.answered_at else None
            connect = viewer.connected_at - viewer.posted_at if viewer.connected_at and viewer.connected else None
            results.append({"first_any": first_any, "first_all": first_all, "answer": answer, "connect": connect})
            for track in viewer.tracks:
                track.stop()
            if viewer.pc is not None:
                self.pcs.remove(viewer.pc)
                await asyncio.wait_for(viewer.pc.close(), 10.0)
        return {"ok": True, "probes": results}

    async def _go_light(self, viewer: ViewerState) -> None:
        """Switch the viewer to LightReceive once every video track decoded a frame (at most 15 s)."""
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline and viewer.pc.connectionState == "connected":
            if all(t.decoded_at is not None for t in viewer.tracks if t.kind == "video"):
                break
            await asyncio.sleep(0.1)
        if viewer.pc.connectionState != "connected":
            return
        by_ssrc: dict[int, TrackCounter] = {}
        transceivers = viewer.pc.getTransceivers()
        for transceiver, counter in zip(transceivers, viewer.tracks, strict=True):
            for source in transceiver.receiver.getSynchronizationSources():
                by_ssrc[source.source] = counter
        dtls = transceivers[0].receiver.transport
        if dtls._rx_srtp is None or len(by_ssrc) < len(viewer.tracks):
            return  # keep aiortc's full receive path
        light = LightReceive(dtls._rx_srtp, by_ssrc, viewer)
        dtls._rx_srtp = light
        dtls._handle_rtp_data = light.handle_rtp
        protocols = list(getattr(dtls.transport._connection, "_protocols", []))
        if self.counted is not None and sum(1 for v in self.viewers if v.light and not v.sink) >= self.counted:
            for protocol in protocols:
                drop_rtp_in_kernel(protocol.transport.get_extra_info("socket"))
            viewer.sink = True
        if self.counted is not None:  # --counted (and --edge): the cheapest load; see DirectReceive
            for protocol in protocols:
                protocol.datagram_received = DirectReceive(light, protocol.datagram_received)
        viewer.light = True
        viewer.light_receive = light

    async def do_drop(self, count: int) -> dict[str, Any]:
        """Close the `count` most recent viewers."""
        gone = self.viewers[len(self.viewers) - count :] if count else []
        del self.viewers[len(self.viewers) - len(gone) :]
        for viewer in gone:
            for track in viewer.tracks:
                track.stop()
            if viewer.pc is not None:
                self.pcs.remove(viewer.pc)
        await asyncio.wait_for(asyncio.gather(*(v.pc.close() for v in gone if v.pc), return_exceptions=True), 20.0)
        return {"ok": True, "dropped": len(gone)}

    async def do_snapshot(self) -> dict[str, Any]:
        at = time.monotonic()  # no await below: every count is as of this instant
        viewers = {}
        for v in self.viewers:
            first_any, first_all = v.first_frames()
            viewers[v.number] = {
                "connected": v.connected and v.pc.connectionState == "connected",
                "sink": v.sink,
                "frames": [t.frames for t in v.tracks],
                "packets": v.packets,
                "kinds": [t.kind for t in v.tracks],
                "first_any": first_any,
                "first_all": first_all,
                "answer": v.answered_at - v.posted_at if v.answered_at else None,
                "connect": v.connected_at - v.posted_at if v.connected_at and v.connected else None,
            }
        restarts = sum(getattr(t, "restarts", 0) for t in self.tracks)
        light = sum(1 for v in self.viewers if v.light)
        unknown = sum(v.light_receive.unknown for v in self.viewers if v.light_receive is not None)
        states = Counter(str(pc.connectionState) for pc in self.pcs) if self.role == "publisher" else {}
        return {
            "at": at,
            "viewers": viewers,
            "restarts": restarts,
            "light": light,
            "unknown_rtp": unknown,
            "publishers": dict(states),
        }


def load_main(conn: Connection, role: str, light: bool, counted: int | None = None) -> None:
    LoadWorker(conn, role, light, counted).run()


class Load:
    """The parent's handle on one load process."""

    def __init__(self, role: str, light: bool = True, counted: int | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=load_main, args=(child, role, light, counted), name=f"relay-bench-{role}", daemon=True
        )
        self.process.start()
        child.close()

    def send(self, *command: Any) -> None:
        self.conn.send(command)

    def reply(self, timeout: float = COMMAND_TIMEOUT) -> Any:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"load process {self.process.pid} did not answer within {timeout:.0f} s")
        answer = self.conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"load process {self.process.pid}: {answer['error']}")
        return answer

    def ask(self, *command: Any, timeout: float = COMMAND_TIMEOUT) -> Any:
        self.send(*command)
        return self.reply(timeout)

    def cpu(self) -> float:
        pid = self.process.pid
        return cpu_seconds(pid) if pid is not None and self.process.is_alive() else 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, TimeoutError, RuntimeError):
            if self.process.is_alive():
                self.send("close")
                self.reply(25.0)
        self.process.join(5.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(tmp: Path) -> dict[str, str]:
    return processes_server_env(tmp, debug=True)


def prepare_database(env: dict[str, str]) -> tuple[str, list[str]]:
    """Migrate the throwaway database; a live room with the host and 3 guests seated. (slug, tokens)."""
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=180)
    done = subprocess.run(
        [PYTHON, "-c", SETUP_SNIPPET], cwd=ROOT, env=env, check=True, timeout=60, capture_output=True, text=True
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    if len(data["tokens"]) != SEATS or not all(data["tokens"]):
        raise RuntimeError(f"expected {SEATS} seated seats with publish tokens, got {data['tokens']}")
    return data["slug"], data["tokens"]


def start_server(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [PYTHON, "-m", "daphne", "-b", HOST, "-p", str(port), app],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1.0):
            return
        time.sleep(0.1)
    raise TimeoutError(f"server did not listen on {port} within {within:.0f} s:\n{log_tail(log)}")


# --- measuring ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Step:
    target: str
    viewers: int
    connected: int = 0
    server_cores: float = 0.0
    per_viewer_ms: float | None = None  # server CPU ms per second per viewer, above the 0-viewer baseline
    min_video_fps: float | None = None
    median_video_fps: float | None = None
    min_audio_fps: float | None = None
    below_target: int = 0  # viewer tracks under FPS_TARGET video fps
    first_p50: float | None = None
    first_p95: float | None = None
    all4_p50: float | None = None
    all4_p95: float | None = None
    answer_p50: float | None = None  # WHEP POST -> answer
    connect_p50: float | None = None  # WHEP POST -> connected (ICE + DTLS)
    # single viewers joining one at a time after the window (the room at load N)
    probe_p50: float | None = None
    probe_p95: float | None = None
    probe_all4_p50: float | None = None
    probe_answer_p50: float | None = None
    probe_connect_p50: float | None = None
    rss_mb: float = 0.0
    load_cores: float = 0.0
    other_cores: float = 0.0
    restarts: int = 0
    server_drops: int = 0  # UDP datagrams dropped (receive buffer full) on the server's sockets
    load_drops: int = 0  # ... on the load processes' sockets
    light: int = 0  # viewers counting frames from RTP headers (LightReceive) at the end of the window
    # RTP packets/s the server sent to its viewers over the window, counted by every viewer (after
    # SRTP, on its bundled transport), scaled up to `connected` if some joined during the window
    packets_out: float | None = None
    packets_measured: int = 0  # viewers whose packets were counted
    baseline_cores: float | None = None  # the server with the 4 publishers and no viewer
    publishers: str = ""  # the 4 publisher peer connections' states at the end of the window
    process_cores: list[float] = field(default_factory=list)  # per server process (origin first)
    sinks: int = 0  # viewers whose RTP the kernel dropped (not counted at the viewer)
    # RTP packets/s the server processes sent (their /metrics `liverooms_relay_packets_out`), and
    # what the counted viewers got per viewer: kept pace = sent >= 97 % of per-viewer x consumers
    server_packets_out: float | None = None
    counted_per_viewer_pps: float | None = None
    consumers: int = 0  # viewers + the edges' upstream subscriptions (each one full-room viewer of the origin)

    @property
    def ok(self) -> bool:
        return (
            self.connected == self.viewers
            and self.min_video_fps is not None
            and self.min_video_fps >= FPS_TARGET
            and self.min_audio_fps is not None
            and self.min_audio_fps >= AUDIO_TARGET
            and self.kept_pace is not False
        )

    @property
    def kept_pace(self) -> bool | None:
        """With sinks (--counted): the servers sent >= 97 % of what every consumer should get, at the
        rate the counted viewers got (None when not measured)."""
        if not self.sinks or self.server_packets_out is None or not self.counted_per_viewer_pps:
            return None
        return self.server_packets_out >= 0.97 * self.counted_per_viewer_pps * self.consumers

    @property
    def viewers_per_core(self) -> float | None:
        return 1000 / self.per_viewer_ms if self.per_viewer_ms and self.per_viewer_ms > 0 else None

    @property
    def packets_per_core(self) -> float | None:
        """RTP packets out per second per core of server CPU (the whole process, publishers included)."""
        return self.packets_out / self.server_cores if self.packets_out and self.server_cores > 0 else None

    @property
    def per_track_ms(self) -> float | None:
        """Server CPU ms/s per viewer-track (a viewer is 4 seats x (audio + video) = 8 consumer tracks)."""
        return self.per_viewer_ms / (2 * SEATS) if self.per_viewer_ms is not None else None

    @property
    def us_per_packet(self) -> float | None:
        """Server CPU µs per packet out, above the 4 publishers' cost (the 0-viewer baseline)."""
        if not self.packets_out or self.baseline_cores is None:
            return None
        return 1e6 * (self.server_cores - self.baseline_cores) / self.packets_out


class Bench:
    """One server under test plus its load processes."""

    def __init__(
        self,
        name: str,
        port: int,
        server: subprocess.Popen[bytes],
        args: argparse.Namespace,
        edges: list[tuple[int, subprocess.Popen[bytes]]] | None = None,
    ) -> None:
        self.name = name
        self.port = port  # the origin: publishers, probes
        self.server = server
        self.edges = edges or []  # more processes: viewer load k watches on ports[k % len(ports)]
        self.ports = [port, *(p for p, _ in self.edges)]
        self.pids = [server.pid, *(proc.pid for _, proc in self.edges)]
        self.args = args
        self.publisher = Load("publisher")
        counted = getattr(args, "counted", None)
        self.viewer_loads = [Load("viewers", args.light, counted) for _ in range(args.load_procs)]
        self.viewers = 0
        self.counts = [0] * len(self.viewer_loads)
        self.baseline: float | None = None
        self.seen_first: set[int] = set()
        self.clip: dict[str, Any] | None = None
        self.light = 0  # viewers in light receive mode at the last snapshot
        self.publisher_states: dict[str, int] = {}

    def loads(self) -> list[Load]:
        return [self.publisher, *self.viewer_loads]

    def close(self) -> None:
        for load in self.loads():
            load.close()

    def publish(self, seats: list[tuple[str, str | None]], codec: str = "vp8") -> None:
        reply = self.publisher.ask("publish", self.port, seats, codec, timeout=90.0)
        self.clip = reply.get("clip") or self.clip

    def set_viewers(self, path: str, count: int, codec: str | None = None) -> None:
        if count > self.viewers:
            adds = [0] * len(self.viewer_loads)
            for i in range(self.viewers, count):
                adds[i % len(self.viewer_loads)] += 1
            for index, (load, add) in enumerate(zip(self.viewer_loads, adds, strict=True)):
                if add:
                    port = (
                        self.ports[-1]
                        if getattr(self.args, "edge_only", False)
                        else self.ports[index % len(self.ports)]
                    )
                    load.send("watch", port, path, add, 1_000_000 * index + self.counts[index], codec)
            for load, add in zip(self.viewer_loads, adds, strict=True):
                if add:
                    reply = load.reply(timeout=CONNECT_TIMEOUT + 8 * add)
                    if reply["errors"]:
                        say(f"{self.name}: some viewers did not connect: {reply['errors']}")
            self.counts = [c + a for c, a in zip(self.counts, adds, strict=True)]
        elif count < self.viewers:
            drops = [0] * len(self.viewer_loads)
            for i in range(count, self.viewers):
                drops[i % len(self.viewer_loads)] += 1
            for load, drop in zip(self.viewer_loads, drops, strict=True):
                if drop:
                    load.ask("drop", drop)
            self.counts = [c - d for c, d in zip(self.counts, drops, strict=True)]
        self.viewers = count

    def snapshot(self) -> tuple[dict[int, Any], int]:
        for load in self.viewer_loads:
            load.send("snapshot")
        self.publisher.send("snapshot")
        merged: dict[int, Any] = {}
        self.light = 0
        for load in self.viewer_loads:
            reply = load.reply(30.0)
            for viewer in reply["viewers"].values():
                viewer["at"] = reply["at"]  # CLOCK_MONOTONIC: the same clock in every process
            merged.update(reply["viewers"])
            self.light += reply["light"]
        published = self.publisher.reply(30.0)
        self.publisher_states = published["publishers"]
        return merged, published["restarts"]

    def probe(self, step: Step, path: str, count: int) -> None:
        if count < 1:
            return
        probes = self.viewer_loads[0].ask("probe", self.port, path, count, timeout=20.0 * count + 10)["probes"]

        def values(key: str) -> list[float]:
            return [p[key] if p[key] is not None else math.inf for p in probes]

        step.probe_p50, step.probe_p95 = percentile(values("first_any"), 0.5), percentile(values("first_any"), 0.95)
        step.probe_all4_p50 = percentile(values("first_all"), 0.5)
        step.probe_answer_p50 = percentile(values("answer"), 0.5)
        step.probe_connect_p50 = percentile(values("connect"), 0.5)
        say(
            f"{self.name:9} N={step.viewers:3d}: {count} viewers joining one by one: first frame p50 "
            f"{fmt(step.probe_p50, '.0f', 1000)} ms p95 {fmt(step.probe_p95, '.0f', 1000)} ms, all 4 seats p50 "
            f"{fmt(step.probe_all4_p50, '.0f', 1000)} ms (answer p50 {fmt(step.probe_answer_p50, '.0f', 1000)} ms, "
            f"connected p50 {fmt(step.probe_connect_p50, '.0f', 1000)} ms)"
        )

    def packets_sent(self) -> float | None:
        """RTP packets the server processes sent their viewers so far (/metrics, loopback needs no token)."""
        if getattr(self.args, "counted", None) is None:
            return None
        import re
        import urllib.request

        total = 0.0
        for port in self.ports:
            with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=20) as response:
                found = re.search(r"^liverooms_relay_packets_out(?:_total)? (\S+)$", response.read().decode(), re.M)
            if found is None:
                return None
            total += float(found.group(1))
        return total

    def server_cpu(self) -> list[float]:
        return [cpu_seconds(pid) for pid in self.pids]

    def measure(self, window: float) -> Step:
        pids = self.pids
        step = Step(self.name, self.viewers)
        sent0 = self.packets_sent()
        before, restarts0 = self.snapshot()
        t0 = time.monotonic()
        cpu0, load0, busy0 = self.server_cpu(), sum(load.cpu() for load in self.loads()), machine_busy_seconds()
        load_pids = [load.process.pid for load in self.loads() if load.process.pid is not None]
        server_drops0, load_drops0 = udp_drops(pids), udp_drops(load_pids)
        time.sleep(window)
        after, restarts1 = self.snapshot()
        t1 = time.monotonic()
        sent1 = self.packets_sent()
        cpu1, load1, busy1 = self.server_cpu(), sum(load.cpu() for load in self.loads()), machine_busy_seconds()
        # (sockets closed during the window take their counts with them: never below 0)
        step.server_drops = max(0, udp_drops(pids) - server_drops0)
        step.load_drops = max(0, udp_drops(load_pids) - load_drops0)
        elapsed = t1 - t0
        step.server_cores = sum(cpu1[i] - cpu0[i] for i in range(len(pids))) / elapsed
        step.process_cores = [(cpu1[i] - cpu0[i]) / elapsed for i in range(len(pids))]
        step.load_cores = (load1 - load0) / elapsed
        step.other_cores = max(0.0, (busy1 - busy0) / elapsed - step.server_cores - step.load_cores)
        step.rss_mb = sum(rss_mb(pid) for pid in pids)
        step.restarts = restarts1 - restarts0
        step.light = self.light
        step.publishers = ",".join(f"{n} {state}" for state, n in sorted(self.publisher_states.items()))
        step.baseline_cores = self.baseline
        if self.baseline is not None and self.viewers:
            step.per_viewer_ms = 1000 * (step.server_cores - self.baseline) / self.viewers
        video, audio = [], []
        firsts, all4, answers, connects = [], [], [], []
        packet_rates: list[float] = []
        for number, late in after.items():
            early = before.get(number)
            if late["connected"]:
                step.connected += 1
            if late.get("sink"):
                step.sinks += 1
                continue  # its RTP never reached the load: the server's own counter below stands for it
            if early is None:
                continue
            span = late["at"] - early["at"]  # the load process's own snapshot times, not the parent's
            if late["connected"] and early.get("packets") is not None and late.get("packets") is not None:
                packet_rates.append((late["packets"] - early["packets"]) / span)
            for kind, a, b in zip(late["kinds"], early["frames"], late["frames"], strict=True):
                (video if kind == "video" else audio).append((b - a) / span)
            if number not in self.seen_first:
                self.seen_first.add(number)
                firsts.append(late["first_any"] if late["first_any"] is not None else math.inf)
                all4.append(late["first_all"] if late["first_all"] is not None else math.inf)
                answers.append(late["answer"] if late["answer"] is not None else math.inf)
                connects.append(late["connect"] if late["connect"] is not None else math.inf)
        if sent0 is not None and sent1 is not None:
            step.server_packets_out = (sent1 - sent0) / (t1 - t0)
            step.consumers = step.connected + (len(self.edges) if step.connected else 0)
            if packet_rates:
                step.counted_per_viewer_pps = statistics.mean(packet_rates)
        if packet_rates:
            step.packets_measured = len(packet_rates)
            step.packets_out = sum(packet_rates) * max(step.connected, len(packet_rates)) / len(packet_rates)
        if video:
            step.min_video_fps = min(video)
            step.median_video_fps = statistics.median(video)
            step.below_target = sum(1 for fps in video if fps < FPS_TARGET)
        if audio:
            step.min_audio_fps = min(audio)
        step.first_p50, step.first_p95 = percentile(firsts, 0.5), percentile(firsts, 0.95)
        step.all4_p50, step.all4_p95 = percentile(all4, 0.5), percentile(all4, 0.95)
        step.answer_p50, step.connect_p50 = percentile(answers, 0.5), percentile(connects, 0.5)
        return step


def fmt(value: float | None, spec: str = ".1f", scale: float = 1.0) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "never"
    return format(value * scale, spec)


def print_step(step: Step) -> None:
    sinks = (
        f"sinks {step.sinks}, server packets out {fmt(step.server_packets_out, '.0f')}/s for "
        f"{step.consumers} consumers (counted viewers {fmt(step.counted_per_viewer_pps, '.0f')}/s each, "
        f"kept pace {step.kept_pace}), cores per process {[round(c, 2) for c in step.process_cores]}, "
        if step.sinks
        else ""
    )
    say(
        f"{step.target:9} N={step.viewers:3d} (connected {step.connected}): server {step.server_cores:.2f} cores, "
        f"{fmt(step.per_viewer_ms)} ms/s per viewer, video fps min {fmt(step.min_video_fps)} "
        f"(median {fmt(step.median_video_fps)}, {step.below_target} tracks < {FPS_TARGET:.0f}), "
        f"audio min {fmt(step.min_audio_fps)}/s, first frame p50 {fmt(step.first_p50, '.0f', 1000)} ms "
        f"p95 {fmt(step.first_p95, '.0f', 1000)} ms (answer p50 {fmt(step.answer_p50, '.0f', 1000)} ms, "
        f"connected p50 {fmt(step.connect_p50, '.0f', 1000)} ms), RSS {step.rss_mb:.0f} MB, "
        f"load {step.load_cores:.2f} cores, {sinks}"
        f"other {step.other_cores:.2f} cores, PLI restarts {step.restarts}, "
        f"UDP drops server {step.server_drops} load {step.load_drops}, light viewers {step.light}, "
        f"packets out {fmt(step.packets_out, '.0f')}/s ({fmt(step.packets_per_core, '.0f')} per server core, "
        f"{fmt(step.us_per_packet)} µs each above 0 viewers; counted on {step.packets_measured} viewers), "
        f"{fmt(step.per_track_ms, '.2f')} ms/s per viewer-track, "
        f"publishers {step.publishers}"
    )


TABLE_HEAD = (
    "| server | viewers | server cores | server CPU ms/s per viewer | viewers per core | min video fps "
    "(median) | tracks < 29 fps | min audio frames/s | first frame p50 / p95 ms | all 4 seats p50 / p95 ms "
    "| answer / connected p50 ms | one-by-one join: first frame p50 / p95, all 4 p50 ms "
    "| server RSS MB | load cores | other cores | UDP drops server / load "
    "| packets out/s | packets/s per server core | µs per packet (above 0 viewers) | ms/s per viewer-track |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def table_row(step: Step) -> str:
    return (
        f"| {step.target} | {step.viewers} | {step.server_cores:.2f} | {fmt(step.per_viewer_ms)} | "
        f"{fmt(step.viewers_per_core, '.0f')} | {fmt(step.min_video_fps)} ({fmt(step.median_video_fps)}) | "
        f"{step.below_target} | {fmt(step.min_audio_fps)} | {fmt(step.first_p50, '.0f', 1000)} / "
        f"{fmt(step.first_p95, '.0f', 1000)} | {fmt(step.all4_p50, '.0f', 1000)} / {fmt(step.all4_p95, '.0f', 1000)} | "
        f"{fmt(step.answer_p50, '.0f', 1000)} / {fmt(step.connect_p50, '.0f', 1000)} | "
        f"{fmt(step.probe_p50, '.0f', 1000)} / {fmt(step.probe_p95, '.0f', 1000)}, "
        f"{fmt(step.probe_all4_p50, '.0f', 1000)} | {step.rss_mb:.0f} | {step.load_cores:.2f} | "
        f"{step.other_cores:.2f} | "
        f"{step.server_drops} / {step.load_drops} | {fmt(step.packets_out, '.0f')} | "
        f"{fmt(step.packets_per_core, '.0f')} | {fmt(step.us_per_packet)} | {fmt(step.per_track_ms, '.2f')} |"
    )


def measure_baseline(bench: Bench, window: float) -> Step:
    step = bench.measure(window)
    bench.baseline = step.server_cores
    say(f"{bench.name}: 4 publishers, 0 viewers: server {step.server_cores:.3f} cores, RSS {step.rss_mb:.0f} MB")
    return step


def run_liverooms(args: argparse.Namespace, tmp: Path, env: dict[str, str], results: dict[str, Any]) -> None:
    say("liverooms: migrating a throwaway database, opening a room with 4 seated users")
    slug, tokens = prepare_database(env)
    port = free_port()
    log = tmp / "liverooms.log"
    server = start_server("liverooms.asgi:application", port, env, log)
    bench: Bench | None = None
    try:
        wait_for_port(port, server, log)
        bench = Bench("liverooms", port, server, args)
        bench.publish([(f"/rooms/{slug}/whip", token) for token in tokens])
        results["clip"] = bench.clip
        say(f"liverooms: 4 publishers connected (clip {bench.clip}); settling")
        time.sleep(args.settle)
        results["liverooms_baseline"] = measure_baseline(bench, args.window)
        bench.probe(results["liverooms_baseline"], f"/rooms/{slug}/whep", args.probes)
        steps: list[Step] = results["liverooms"]
        sizes = [*range(args.step, args.viewers, args.step), args.viewers]
        path = f"/rooms/{slug}/whep"
        last_ok, first_bad = sweep(bench, args, path, sizes, steps, probe=lambda s: bench.probe(s, path, args.probes))
        results["max_ok"] = last_ok
        results["first_bad"] = first_bad
        if args.profile:
            out = args.profile_out or tmp / "profile.txt"
            results["profile"] = profile_server(server.pid, args.window, out, bench.viewers)
    finally:
        if bench is not None:
            bench.close()
        stop_process(server)
        if server.returncode not in (0, -signal.SIGTERM, None):
            say(f"liverooms exited with {server.returncode}:\n{log_tail(log)}")
        errors = [line for line in log_tail(log, 400).splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            say(f"liverooms server log has {len(errors)} error lines; tail:\n{log_tail(log, 20)}")


def sweep(
    bench: Bench,
    args: argparse.Namespace,
    path: str,
    sizes: list[int],
    steps: list[Step],
    probe: Callable[[Step], None] | None = None,
) -> tuple[int, int | None]:
    """Grow the audience step by step until a step fails, then one midpoint: (largest N passed, first N
    failed). `probe` runs after each step of the sweep (single joins timed)."""
    last_ok, first_bad = 0, None
    for size in sizes:
        bench.set_viewers(path, size)
        time.sleep(args.settle)
        step = bench.measure(args.window)
        steps.append(step)
        print_step(step)
        if probe is not None:
            probe(step)
        if step.ok:
            last_ok = size
        else:
            first_bad = size
            break
    if first_bad is not None and first_bad - last_ok >= 4 and args.refine:
        middle = (first_bad + last_ok) // 2
        bench.set_viewers(path, middle)
        time.sleep(args.settle + 5)  # let the overloaded step's backlog drain first
        step = bench.measure(args.window)
        steps.append(step)
        print_step(step)
        if step.ok:
            last_ok = middle
    return last_ok, first_bad


def run_edge_capacity(args: argparse.Namespace, tmp: Path, results: dict[str, Any]) -> None:
    """Full-room viewers at >= 29 fps: one process, then an origin + an edge (viewers split evenly), same run.

    Both layouts on a fresh throwaway SQLite database and the bench's Redis database (flushed first),
    every process with its own LIVEROOMS_INTERNAL_URL, so the one-process layout runs the same code
    (origin lease, Redis channel layer) as the two-process one. Publishers always WHIP to the first
    process (the origin); in the two-process layout viewer load k watches on process k % 2, and the
    edge serves its viewers from one upstream WHEP subscription to the origin.
    """
    import redis  # the channel layer's client, in requirements.txt

    if args.counted is None:
        args.counted = 3  # per load process: the rest sink, so the load leaves the cores to the servers
    for processes in (2,) if args.edge_only else (1, 2):
        redis.Redis.from_url(args.edge_redis).flushdb()
        work = tmp / f"layout{processes}"
        work.mkdir()
        env = processes_server_env(work, debug=True, REDIS_URL=args.edge_redis)
        name = "1 process" if processes == 1 else "origin+edge"
        say(f"{name}: migrating a throwaway database, opening a room with 4 seated users")
        slug, tokens = prepare_database(env)
        servers: list[tuple[int, subprocess.Popen[bytes], Path]] = []
        bench: Bench | None = None
        try:
            for index in range(processes):
                port = free_port()
                log = work / f"daphne{index}.log"
                own = {**env, "LIVEROOMS_INTERNAL_URL": f"http://{HOST}:{port}"}
                servers.append((port, start_server("liverooms.asgi:application", port, own, log), log))
            for port, proc, log in servers:
                wait_for_port(port, proc, log)
            (port, proc, _), edges = servers[0], [(p, s) for p, s, _ in servers[1:]]
            bench = Bench(name, port, proc, args, edges=edges)
            bench.publish([(f"/rooms/{slug}/whip", token) for token in tokens])
            results["clip"] = bench.clip
            say(f"{name}: 4 publishers connected; settling")
            time.sleep(args.settle)
            results[f"edge_baseline_{processes}"] = measure_baseline(bench, args.window)
            top = args.viewers * (1 if args.edge_only else processes)
            stride = args.step * (1 if args.edge_only else processes)
            sizes = [*range(stride, top, stride), top]
            steps: list[Step] = results.setdefault(f"edge_steps_{processes}", [])
            last_ok, first_bad = sweep(bench, args, f"/rooms/{slug}/whep", sizes, steps)
            results[f"edge_max_ok_{processes}"] = last_ok
            results[f"edge_first_bad_{processes}"] = first_bad
        finally:
            if bench is not None:
                bench.close()
            for _, proc, log in servers:
                stop_process(proc)
                errors = [line for line in log_tail(log, 400).splitlines() if "Traceback" in line]
                if errors:
                    say(f"{name}: {log.name} has {len(errors)} tracebacks; tail:\n{log_tail(log, 20)}")


def edge_report(results: dict[str, Any]) -> str:
    lines = [
        "| layout | viewers | server cores (per process) | ms/s per viewer | min video fps (median) | tracks < 29 fps "
        "| min audio/s | counted / sink viewers | server packets out/s (kept pace) | load cores | other cores "
        "| UDP drops server / load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for processes in (1, 2):
        for step in [results.get(f"edge_baseline_{processes}"), *results.get(f"edge_steps_{processes}", [])]:
            if step is None:
                continue
            per = " + ".join(f"{c:.2f}" for c in step.process_cores)
            pace = {True: "yes", False: "**no**", None: "-"}[step.kept_pace]
            lines.append(
                f"| {step.target} | {step.viewers} | {step.server_cores:.2f} ({per}) | {fmt(step.per_viewer_ms)} "
                f"| {fmt(step.min_video_fps)} ({fmt(step.median_video_fps)}) | {step.below_target} "
                f"| {fmt(step.min_audio_fps)} | {step.connected - step.sinks} / {step.sinks} "
                f"| {fmt(step.server_packets_out, '.0f')} ({pace}) | {step.load_cores:.2f} | {step.other_cores:.2f} "
                f"| {step.server_drops} / {step.load_drops} |"
            )
    one, two = results.get("edge_max_ok_1"), results.get("edge_max_ok_2")
    if one and two is not None:
        lines.append("")
        lines.append(
            f"- full-room viewers at >= {FPS_TARGET:.0f} fps: 1 process {one}, origin + edge {two}: "
            f"**{two / one:.2f}x** (target >= 1.8x); first failing step: 1 process "
            f"{results.get('edge_first_bad_1')}, origin + edge {results.get('edge_first_bad_2')}"
        )
    return "\n".join(lines)


#: (name, publishers' video codec, viewers' video codec) of the codec comparison (--codecs N)
CODEC_PATHS = [
    ("vp8 -> vp8 (pass-through)", "vp8", "vp8"),
    ("h264 -> h264 (pass-through)", "h264", "h264"),
    ("h264 -> vp8 (1 transcode per seat)", "h264", "vp8"),
]


def run_codecs(args: argparse.Namespace, tmp: Path, results: dict[str, Any]) -> None:
    """The same room three times, one fresh server each: VP8 in and out, H.264 in and out, H.264 in
    and VP8 out. Each at 0, 2 and N viewers: the slope (CPU per added viewer) shows whether any
    codec work grows with the audience; the intercept is the fixed cost (the transcoders)."""
    size = args.codecs
    for name, publish_codec, view_codec in CODEC_PATHS:
        phase = tmp / publish_codec / view_codec
        phase.mkdir(parents=True, exist_ok=True)
        env = server_env(phase)
        slug, tokens = prepare_database(env)
        port = free_port()
        log = phase / "server.log"
        server = start_server("liverooms.asgi:application", port, env, log)
        bench: Bench | None = None
        steps: list[Step] = []
        try:
            wait_for_port(port, server, log)
            bench = Bench(name, port, server, args)
            bench.publish([(f"/rooms/{slug}/whip", token) for token in tokens], publish_codec)
            say(f"{name}: 4 {publish_codec} publishers connected (clip {bench.clip}); settling")
            time.sleep(args.settle)
            steps.append(measure_baseline(bench, args.window))
            for viewers in (2, size):
                bench.set_viewers(f"/rooms/{slug}/whep", viewers, view_codec)
                time.sleep(args.settle + 1)  # transcoders start with their first viewer's key frame
                step = bench.measure(args.window)
                print_step(step)
                steps.append(step)
        finally:
            if bench is not None:
                bench.close()
            stop_process(server)
            errors = [line for line in log_tail(log, 400).splitlines() if "Traceback" in line or "ERROR" in line]
            if errors:
                say(f"{name}: server log has {len(errors)} error lines; tail:\n{log_tail(log, 20)}")
        results["codecs"].append((name, steps))


def codec_report(results: dict[str, Any], size: int) -> str:
    lines = [
        f"| path | server cores at 0 / 2 / {size} viewers | ms/s per added viewer (2 -> {size}) "
        "| fixed cost over 0 viewers, cores | slope / VP8's | min video fps at N (median) | min audio/s at N |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    vp8_slope: float | None = None
    for name, steps in results["codecs"]:
        if len(steps) < 3:
            lines.append(f"| {name} | incomplete | | | | | |")
            continue
        zero, two, many = steps
        slope = 1000 * (many.server_cores - two.server_cores) / (many.viewers - two.viewers)
        fixed = two.server_cores - zero.server_cores - 2 * slope / 1000
        if vp8_slope is None:
            vp8_slope = slope
        ratio = slope / vp8_slope if vp8_slope else None
        lines.append(
            f"| {name} | {zero.server_cores:.2f} / {two.server_cores:.2f} / {many.server_cores:.2f} | {slope:.1f} "
            f"| {fixed:.2f} | {fmt(ratio, '.2f')} | {fmt(many.min_video_fps)} ({fmt(many.median_video_fps)}) "
            f"| {fmt(many.min_audio_fps)} |"
        )
    return "\n".join(lines)


def run_stock(args: argparse.Namespace, tmp: Path, env: dict[str, str], results: dict[str, Any]) -> None:
    port = free_port()
    log = tmp / "stock.log"
    server = start_server("stock_relay_app:application", port, env, log)
    bench: Bench | None = None
    try:
        wait_for_port(port, server, log)
        bench = Bench("stock", port, server, args)
        bench.publish([(f"/whip/{seat}", None) for seat in range(SEATS)])
        say("stock: 4 publishers connected; settling")
        time.sleep(args.settle)
        results["stock_baseline"] = measure_baseline(bench, args.window)
        for size in range(1, args.stock_viewers + 1):
            bench.set_viewers("/whep", size)
            time.sleep(args.settle)
            step = bench.measure(args.window)
            results["stock"].append(step)
            print_step(step)
            bench.probe(step, "/whep", min(args.probes, 2))
    finally:
        if bench is not None:
            bench.close()
        stop_process(server)


# --- profile -----------------------------------------------------------------------------------


def profile_server(pid: int, seconds: float, out: Path, viewers: int) -> dict[str, Any]:
    """py-spy the server for `seconds`; the functions with the most samples (own and inclusive)."""
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        return {"error": "py-spy not installed"}
    say(f"profiling liverooms with py-spy for {seconds:.0f} s at N={viewers}")
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(math.ceil(seconds))]
    command += ["--rate", "200", "--nonblocking", "--format", "raw", "--output", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0 or not out.exists():
        return {"error": (done.stderr or done.stdout).strip()[-500:]}
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # (py-spy's raw format: frames root first, no thread name; with --nonblocking some stacks
        # are cut short at the root end, so inclusive shares of the outermost frames are low)
        frames = [short_frame(f) for f in stack.split(";")]
        if frames[-1].startswith(("EpollSelector.select", "select (")):
            idle += count
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    return {
        "file": str(out),
        "samples": total,
        "idle_samples": idle,
        "viewers": viewers,
        "own": [(name, count / total) for name, count in own.most_common(20)] if total else [],
        "inclusive": [(name, count / total) for name, count in inclusive.most_common(40) if count < 0.97 * total][:25]
        if total
        else [],
    }


def short_frame(frame: str) -> str:
    """`send (aiortc/rtcrtpsender.py:401)` -> `send (aiortc/rtcrtpsender.py)`: group a function's lines."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


# --- main --------------------------------------------------------------------------------------


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [TABLE_HEAD]
    for key in ("liverooms_baseline", "stock_baseline"):
        step = results.get(key)
        if step is not None:
            step.target = key.replace("_baseline", " (0 viewers)")
    rows = [results.get("liverooms_baseline"), *results["liverooms"], results.get("stock_baseline"), *results["stock"]]
    lines += [table_row(step) for step in rows if step is not None]
    ok = [s for s in results["liverooms"] if s.ok]
    best = max(ok, key=lambda s: s.viewers) if ok else None
    stock_ok = [s for s in results["stock"] if s.per_viewer_ms is not None]
    stock = stock_ok[0] if stock_ok else None
    lines.append("")
    if best is not None and best.per_viewer_ms:
        lines.append(
            f"- liverooms: every viewer >= {FPS_TARGET:.0f} fps up to N={results.get('max_ok')} on this box"
            + (
                f" (N={results['first_bad']} fails)"
                if results.get("first_bad")
                else f" (largest N tried: {args.viewers})"
            )
            + f"; {best.per_viewer_ms:.1f} ms/s server CPU per viewer at N={best.viewers} "
            f"=> {best.viewers_per_core:.0f} full-room viewers per server core (target >= 60)."
        )
    if stock is not None and best is not None and best.per_viewer_ms and stock.per_viewer_ms:
        ratio = stock.per_viewer_ms / best.per_viewer_ms
        results["ratio"] = ratio
        lines.append(
            f"- stock MediaRelay: {stock.per_viewer_ms:.0f} ms/s per viewer at N={stock.viewers} "
            f"(min video fps {fmt(stock.min_video_fps)}); "
            f"stock / liverooms per-viewer CPU = {ratio:.1f}x (target >= 20x)."
        )
    if best is not None and best.packets_out:
        lines.append(
            f"- liverooms packets out at N={best.viewers}: {best.packets_out:.0f}/s for {best.server_cores:.2f} server "
            f"cores = {fmt(best.packets_per_core, '.0f')} packets/s per core (the whole process), "
            f"{fmt(best.us_per_packet)} µs of CPU per packet above the publishers' cost; "
            f"{fmt(best.per_track_ms, '.2f')} ms/s per viewer-track."
        )
    if stock is not None and stock.packets_out:
        lines.append(
            f"- stock MediaRelay packets out at N={stock.viewers}: {stock.packets_out:.0f}/s for "
            f"{stock.server_cores:.2f} cores = {fmt(stock.packets_per_core, '.0f')} per core, "
            f"{fmt(stock.us_per_packet)} µs per packet; {fmt(stock.per_track_ms, '.2f')} ms/s per viewer-track"
            + (
                f" (stock / liverooms per viewer-track: {stock.per_track_ms / best.per_track_ms:.1f}x)."
                if best is not None and best.per_track_ms and stock.per_track_ms
                else "."
            )
        )
    busy = [s for s in rows if s is not None and s.other_cores > 0.3]
    if busy:
        lines.append(
            "- WARNING: other processes used > 0.3 core during "
            + ", ".join(f"{s.target} N={s.viewers} ({s.other_cores:.2f})" for s in busy)
            + ": those rows are skewed (this box has 2 cores)."
        )
    probed = [s for s in [results.get("liverooms_baseline"), *results["liverooms"]] if s and s.probe_p50 is not None]
    if probed:
        lines.append(
            "- liverooms WHEP POST -> first decoded frame, one viewer joining at a time (target p50 <= 300 ms): "
            + ", ".join(
                f"N={s.viewers}: p50 {fmt(s.probe_p50, '.0f', 1000)} / p95 {fmt(s.probe_p95, '.0f', 1000)} ms"
                for s in probed
            )
            + "."
        )
    bursts = [s for s in results["liverooms"] if s.first_p50 is not None]
    if bursts:
        lines.append(
            f"- liverooms first frame when {args.step} viewers join at once (the step's own viewers): "
            + ", ".join(f"N={s.viewers}: p50 {fmt(s.first_p50, '.0f', 1000)} ms" for s in bursts)
            + "."
        )
    return "\n".join(lines)


def step_json(step: Step) -> dict[str, Any]:
    derived = ("ok", "viewers_per_core", "packets_per_core", "per_track_ms", "us_per_packet")
    return {**step.__dict__, **{name: getattr(step, name) for name in derived}}


def print_profile(profile: dict[str, Any]) -> str:
    if "error" in profile:
        return f"py-spy failed: {profile['error']}"
    lines = [
        f"py-spy, liverooms server at N={profile['viewers']}: {profile['samples']} busy samples "
        f"(+ {profile['idle_samples']} idle in epoll, left out); shares of busy samples:"
    ]
    lines.append("  own time (leaf function):")
    lines += [f"    {share:6.1%}  {name}" for name, share in profile["own"]]
    lines.append("  inclusive:")
    lines += [f"    {share:6.1%}  {name}" for name, share in profile["inclusive"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=60, help="largest N of liverooms viewers to try")
    parser.add_argument("--step", type=int, default=10, help="liverooms viewers added per step")
    parser.add_argument("--stock-viewers", type=int, default=2, help="stock MediaRelay viewers (1..this)")
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured per step")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between a change and its window")
    parser.add_argument("--load-procs", type=int, default=2, help="viewer load processes")
    parser.add_argument(
        "--full-viewers",
        dest="light",
        action="store_false",
        help="viewers keep aiortc's whole receive path (SRTP, RTP parse, NACK, jitter buffer) all along",
    )
    parser.add_argument("--probes", type=int, default=3, help="single joins timed after each step")
    parser.add_argument("--no-refine", dest="refine", action="store_false", help="no midpoint step after a failure")
    parser.add_argument("--no-stock", dest="stock", action="store_false", help="skip the MediaRelay baseline")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="no py-spy window at the end")
    parser.add_argument("--profile-out", type=Path, help="keep py-spy's raw samples (collapsed stacks) here")
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="max seconds to wait for an idle machine")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--codecs",
        type=int,
        metavar="N",
        help="instead of the sweep: VP8 and H.264 publishers, pass-through and transcoded, at 0, 2 and N viewers",
    )
    parser.add_argument(
        "--edge",
        action="store_true",
        help="instead of the sweep: capacity of 1 process vs an origin + an edge (viewers split), same run",
    )
    parser.add_argument(
        "--edge-only", action="store_true", help="with --edge: only the two-process layout, every viewer on the edge"
    )
    parser.add_argument(
        "--counted",
        type=int,
        metavar="K",
        help="only K viewers per load process count frames; the others' RTP is dropped in the kernel (a BPF "
        "filter), and the servers' own packet counters (/metrics) check that they were sent",
    )
    parser.add_argument("--edge-redis", default="redis://127.0.0.1:6379/14", help="Redis database for --edge (flushed)")
    args = parser.parse_args()
    if args.viewers < 1 or args.step < 1 or args.load_procs < 1:
        parser.error("--viewers, --step and --load-procs must be at least 1")

    results: dict[str, Any] = {"liverooms": [], "stock": [], "codecs": []}
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    env = server_env(tmp)
    if args.codecs is not None and args.codecs < 3:
        parser.error("--codecs N needs N >= 3")
    if args.edge or args.codecs is not None:
        run, report_of = (
            (run_edge_capacity, edge_report)
            if args.edge
            else (run_codecs, lambda results: codec_report(results, args.codecs))
        )
        try:
            wait_for_quiet(args.quiet_wait)
            run(args, tmp, results)
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        finally:
            print("\n" + report_of(results))
            if args.json and args.edge:
                payload = {k: ([step_json(x) for x in v] if isinstance(v, list) else v) for k, v in results.items()}
                payload = {k: (step_json(v) if isinstance(v, Step) else v) for k, v in payload.items()}
                args.json.write_text(json.dumps(payload, indent=1, default=str))
            shutil.rmtree(tmp, ignore_errors=True)
            say(f"done in {time.monotonic() - started:.0f} s")
        return 0
    try:
        wait_for_quiet(args.quiet_wait)
        run_liverooms(args, tmp, env, results)
        if args.stock:
            run_stock(args, tmp, env, results)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        text = report(results, args)
        print("\n" + text)
        if "profile" in results:
            print("\n" + print_profile(results["profile"]))
        if args.json:
            payload = {
                "clip": results.get("clip"),
                "steps": [step_json(s) for s in results["liverooms"] + results["stock"]],
                "baselines": {
                    k: step_json(results[k]) for k in ("liverooms_baseline", "stock_baseline") if k in results
                },
                "max_ok": results.get("max_ok"),
                "first_bad": results.get("first_bad"),
                "ratio": results.get("ratio"),
                "profile": results.get("profile"),
            }
            args.json.write_text(json.dumps(payload, indent=1, default=str))
        say(f"done in {time.monotonic() - started:.0f} s")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
