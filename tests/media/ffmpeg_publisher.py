"""Publish to a WHIP URL with FFmpeg's own `whip` muxer (through PyAV): H.264 + Opus, synthetic.

Run as a separate process (`python -m tests.media.ffmpeg_publisher URL ...`): the muxer does its
HTTP and ICE/DTLS work inside `avformat_write_header` without releasing the GIL, so it cannot
share a process with the asyncio server it talks to. The picture is one flat luma level, so a
viewer can tell whose picture it decoded. Exit status 0 after `--seconds` of media, 1 with FFmpeg's
error on stderr otherwise.

`--command "ffmpeg … -f whip … URL"` takes the URL, the muxer's options and the video encoder's
options from an `ffmpeg` command line (the one the studio shows), in place of the other flags.
"""

from __future__ import annotations

import argparse
import itertools
import math
import shlex
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


DEFAULT_X264 = {"profile": "baseline", "preset": "ultrafast", "tune": "zerolatency", "g": str(FPS), "bf": "0"}
#: ffmpeg CLI flags -> (which options, option name)
CLI_OPTIONS = {
    "-authorization": ("whip", "authorization"),
    "-cert_file": ("whip", "cert_file"),
    "-key_file": ("whip", "key_file"),
    "-handshake_timeout": ("whip", "handshake_timeout"),
    "-profile:v": ("x264", "profile"),
    "-preset": ("x264", "preset"),
    "-tune": ("x264", "tune"),
    "-g": ("x264", "g"),
    "-bf": ("x264", "bf"),
}


def plan_from_command(command: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(WHIP URL, muxer options, x264 options) of an `ffmpeg … -f whip … URL` command line."""
    args = shlex.split(command)
    if args[0] != "ffmpeg" or "whip" not in args or args[args.index("whip") - 1] != "-f":
        raise ValueError(f"not an ffmpeg command with a whip output: {command!r}")
    if args[args.index("-c:v") + 1] != "libx264" or args[args.index("-c:a") + 1] != "libopus":
        raise ValueError("expected libx264 video and libopus audio")
    options: dict[str, dict[str, str]] = {"whip": {}, "x264": {}}
    for flag, value in itertools.pairwise(args):
        if flag in CLI_OPTIONS:
            which, name = CLI_OPTIONS[flag]
            options[which][name] = value
    return args[-1], options["whip"], options["x264"]


def publish(
    url: str, options: dict[str, str], *, seconds: float, level: int, x264: dict[str, str] | None = None
) -> None:
    container = av.open(url, "w", format="whip", options=options)
    try:
        video = container.add_stream("libx264", rate=FPS, options=x264 or DEFAULT_X264)
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
    parser.add_argument("url", nargs="?")
    parser.add_argument("--token")
    parser.add_argument("--command")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--level", type=int, default=140)
    args = parser.parse_args()
    if args.command:
        url, options, x264 = plan_from_command(args.command)
    elif args.url and args.token:
        url, options, x264 = args.url, whip_options(args.token, args.cert, args.key), DEFAULT_X264
    else:
        parser.error("give a URL and --token, or --command")
    try:
        publish(url, options, seconds=args.seconds, level=args.level, x264=x264)
    except av.FFmpegError as exc:
        print(f"ffmpeg whip: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
