"""Publish to a WHIP URL with FFmpeg's own `whip` muxer (through PyAV): H.264 + Opus, synthetic.

Run as a separate process (`python -m tests.media.ffmpeg_publisher URL ...`): the muxer does its
HTTP and ICE/DTLS work inside `avformat_write_header` without releasing the GIL, so it cannot
share a process with the asyncio server it talks to. The picture is one flat luma level, so a
viewer can tell whose picture it decoded. Exit status 0 after `--seconds` of media, 1 with FFmpeg's
error on stderr otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from fractions import Fraction

import av

WIDTH, HEIGHT, FPS = 320, 240, 30
SAMPLE_RATE, SAMPLES = 48_000, 960


def whip_options(token: str, cert: str | None, key: str | None) -> dict[str, str]:
    options = {"authorization": token, "handshake_timeout": "10000"}
    if cert and key:
        options.update(cert_file=cert, key_file=key)
    return options


def publish(url: str, options: dict[str, str], *, seconds: float, level: int) -> None:
    container = av.open(url, "w", format="whip", options=options)
    try:
        video = container.add_stream(
            "libx264",
            rate=FPS,
            options={"profile": "baseline", "preset": "ultrafast", "tune": "zerolatency", "g": str(FPS), "bf": "0"},
        )
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream("libopus", rate=SAMPLE_RATE)
        audio.layout = "stereo"
        start = time.monotonic()
        frame_index = samples = 0
        while time.monotonic() - start < seconds:
            picture = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            for plane, value in zip(picture.planes, (level, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            picture.pts, picture.time_base = frame_index, Fraction(1, FPS)
            for packet in video.encode(picture):
                container.mux(packet)
            frame_index += 1
            while samples < frame_index * SAMPLE_RATE // FPS:
                sound = av.AudioFrame(format="s16", layout="stereo", samples=SAMPLES)
                tone = bytearray()
                for n in range(SAMPLES):  # a quiet 440 Hz tone
                    value = int(2000 * math.sin(2 * math.pi * 440 * (samples + n) / SAMPLE_RATE))
                    tone += value.to_bytes(2, "little", signed=True) * 2
                sound.planes[0].update(bytes(tone))
                sound.sample_rate, sound.pts, sound.time_base = SAMPLE_RATE, samples, Fraction(1, SAMPLE_RATE)
                samples += SAMPLES
                for packet in audio.encode(sound):
                    container.mux(packet)
            time.sleep(max(0.0, start + frame_index / FPS - time.monotonic()))
    finally:
        container.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--level", type=int, default=140)
    args = parser.parse_args()
    try:
        publish(args.url, whip_options(args.token, args.cert, args.key), seconds=args.seconds, level=args.level)
    except av.FFmpegError as exc:
        print(f"ffmpeg whip: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
