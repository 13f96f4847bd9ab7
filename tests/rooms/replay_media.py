"""Small real recordings for replay tests: WebM files of VP8 frames of one solid colour and an Opus
tone, written with PyAV (what the recorder writes, without a live)."""

from __future__ import annotations

import io
import math
import struct
from fractions import Fraction
from functools import cache

import av

FPS = 15
RATE = 48_000


def _yuv(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = colour
    y = round(0.257 * r + 0.504 * g + 0.098 * b + 16)
    u = round(-0.148 * r - 0.291 * g + 0.439 * b + 128)
    v = round(0.439 * r - 0.368 * g - 0.071 * b + 128)
    return y, u, v


def _picture(colour: tuple[int, int, int], width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane, value in zip(frame.planes, _yuv(colour), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


@cache  # tests ask for the same few files again and again
def webm(
    *, seconds: float, colour: tuple[int, int, int] = (200, 30, 90), tone: float = 440.0, video: bool = True
) -> bytes:
    """A WebM of `seconds`: FPS fps 160x120 VP8 of `colour` (a key frame every second) and a
    48 kHz Opus tone of `tone` Hz (`video=False`: audio only)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="webm") as container:
        vstream = None
        if video:
            vstream = container.add_stream("libvpx", rate=FPS)
            vstream.width, vstream.height, vstream.pix_fmt = 160, 120, "yuv420p"
            vstream.options = {"g": str(FPS), "deadline": "realtime", "cpu-used": "8"}
            vstream.bit_rate = 100_000
        astream = container.add_stream("libopus", rate=RATE)
        astream.layout = "mono"
        if vstream is not None:
            for n in range(int(seconds * FPS)):
                frame = _picture(colour, 160, 120)
                frame.pts, frame.time_base = n, Fraction(1, FPS)
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode():
                container.mux(packet)
        chunk = 960
        for start in range(0, int(seconds * RATE), chunk):
            wave = [round(6000 * math.sin(2 * math.pi * tone * (start + i) / RATE)) for i in range(chunk)]
            frame = av.AudioFrame(format="s16", layout="mono", samples=chunk)
            frame.planes[0].update(struct.pack(f"<{chunk}h", *wave))
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            for packet in astream.encode(frame):
                container.mux(packet)
        for packet in astream.encode():
            container.mux(packet)
    return out.getvalue()
