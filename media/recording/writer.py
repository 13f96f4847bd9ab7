"""One recorded file: a seat's publishing period remuxed, never decoded, with PyAV.

VP8 (+ Opus) goes into WebM, H.264 (+ Opus) into fragmented MP4 (`empty_moov`: every fragment is
complete on its own), audio alone into WebM. Packets are the relay's encoded frames as they are;
their time is the frame's RTP timestamp (90 kHz video, 48 kHz Opus) from the period's first frame
of that kind, placed on the file's timeline by when that first frame arrived.

- **What viewers saw.** The relay hands over only frames it forwards, so a camera turned off is a
  stretch with no video frames (`video_off` spans; a player shows the last picture, the replay page
  its placeholder) and a mic turned off is filled with Opus silence frames (`audio_off` spans), so
  the audio keeps time for players and for the composer.
- **Crash safety.** Clusters (WebM) and fragments (MP4) close every RECORDING_FLUSH_SECONDS and are
  written out at once (`flush_packets`): a killed process loses at most that much. Its file lacks
  an index (cues, duration): `media.recording.recovery` remuxes it.
- **Key frames.** Video starts at a key frame, and starts again at one after a gap (camera back on,
  frames dropped by an overflow): decoding never meets a frame whose reference is missing.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from media.recording.bitstream import OPUS_FRAME, OPUS_SILENCE

logger = logging.getLogger(__name__)

CLOCK = {"video": 90_000, "audio": 48_000}
TIME_BASE = {kind: Fraction(1, rate) for kind, rate in CLOCK.items()}
#: a stretch longer than this without video frames is a `video_off` span
VIDEO_GAP = 1.0
#: an audio hole at least this long is filled with silence; from AUDIO_OFF on it is an `audio_off` span
AUDIO_HOLE = 0.06
AUDIO_OFF = 0.5
#: a file ahead of this many seconds of silence to fill is not filled (a clock that jumped)
MAX_FILL = 6 * 3600


def container_for(video_codec: str | None) -> str:
    return "mp4" if video_codec == "h264" else "webm"


def muxer_options(container: str, flush_seconds: float) -> dict[str, str]:
    common = {"flush_packets": "1", "max_interleave_delta": "1000000"}
    if container == "webm":
        return {**common, "cluster_time_limit": str(int(flush_seconds * 1000)), "cluster_size_limit": "4194304"}
    return {
        **common,
        "movflags": "empty_moov+default_base_moof+frag_keyframe",
        "frag_duration": str(int(flush_seconds * 1_000_000)),
    }


def _spans_add(spans: list[list[float]], start: float, end: float) -> None:
    if end - start <= 0:
        return
    if spans and start <= spans[-1][1] + 1e-3:
        spans[-1][1] = max(spans[-1][1], end)
    else:
        spans.append([round(start, 3), round(end, 3)])


class SeatFile:
    """The PyAV output of one period. Times are seconds on the file's timeline (0 = its start)."""

    def __init__(
        self,
        path: Path,
        *,
        video: tuple[str, int, int] | None,  # (codec, width, height)
        audio: bool,
        flush_seconds: float,
    ) -> None:
        self.path = path
        self.container_name = container_for(video[0] if video else None)
        self.output: Any = av.open(
            str(path), "w", format=self.container_name, options=muxer_options(self.container_name, flush_seconds)
        )
        self.video_stream: Any = None
        self.audio_stream: Any = None
        if video is not None:
            codec, width, height = video
            self.video_stream = self.output.add_mux_stream(codec, width=width, height=height)
            self.video_stream.time_base = TIME_BASE["video"]
        if audio:
            # A codec context (never fed) only so the muxer gets Opus's header (OpusHead) as extradata.
            self.audio_stream = self.output.add_stream("libopus", rate=48_000)
            self.audio_stream.layout = "stereo"
            self.audio_stream.time_base = TIME_BASE["audio"]
        self.video_codec = video[0] if video else ""
        self.video_off: list[list[float]] = []
        self.audio_off: list[list[float]] = []
        self.last_video: float | None = None  # time of the last video frame written
        self.first_video: float | None = None
        self.audio_end = 0.0  # where the audio written so far ends (silence-filled from 0)
        self.audio_next_pts = 0  # next audio pts (48 kHz), strictly growing
        self.video_next_pts = 0
        self.end = 0.0  # the latest time any frame covers
        self.packets = 0
        self.closed = False

    @property
    def has_video(self) -> bool:
        return self.video_stream is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_stream is not None

    # -- writing
    def write_video(self, data: bytes, at: float, keyframe: bool) -> None:
        pts = max(round(at * CLOCK["video"]), self.video_next_pts)
        if self.last_video is None:
            self.first_video = at
            if at > VIDEO_GAP:
                _spans_add(self.video_off, 0.0, at)
        elif at - self.last_video > VIDEO_GAP:
            _spans_add(self.video_off, self.last_video + 1 / 30, at)
        packet = av.Packet(data)
        packet.stream = self.video_stream
        packet.pts = packet.dts = pts
        packet.time_base = TIME_BASE["video"]
        packet.is_keyframe = keyframe
        self.output.mux(packet)
        self.video_next_pts = pts + 1
        self.last_video = at
        self.end = max(self.end, at + 1 / 30)
        self.packets += 1

    def write_audio(self, data: bytes, at: float) -> None:
        self.fill_silence(at)
        pts = max(round(at * CLOCK["audio"]), self.audio_next_pts)
        self._audio_packet(data, pts)

    def fill_silence(self, until: float) -> None:
        """Silence frames from where the audio ends to `until` (mic off, or not yet on)."""
        if self.audio_stream is None:
            return
        hole = until - self.audio_end
        if hole < AUDIO_HOLE or hole > MAX_FILL:
            return
        if hole >= AUDIO_OFF:
            _spans_add(self.audio_off, self.audio_end, until)
        last = round(until * CLOCK["audio"]) - OPUS_FRAME
        while self.audio_next_pts <= last:
            self._audio_packet(OPUS_SILENCE, self.audio_next_pts)

    def _audio_packet(self, data: bytes, pts: int) -> None:
        packet = av.Packet(data)
        packet.stream = self.audio_stream
        packet.pts = packet.dts = pts
        packet.duration = OPUS_FRAME
        packet.time_base = TIME_BASE["audio"]
        self.output.mux(packet)
        self.audio_next_pts = pts + OPUS_FRAME
        self.audio_end = self.audio_next_pts / CLOCK["audio"]
        self.end = max(self.end, self.audio_end)
        self.packets += 1

    def spans(self) -> tuple[list[list[float]], list[list[float]]]:
        """(video_off, audio_off) so far, with the trailing gaps up to `end`."""
        video = [list(s) for s in self.video_off]
        audio = [list(s) for s in self.audio_off]
        if self.has_video and self.last_video is not None and self.end - self.last_video > VIDEO_GAP:
            _spans_add(video, self.last_video + 1 / 30, self.end)
        if self.has_audio and self.end - self.audio_end >= AUDIO_OFF:
            _spans_add(audio, self.audio_end, self.end)
        return video, audio

    def close(self) -> None:
        """Write the index (cues, duration; the last fragment) and close the file."""
        if self.closed:
            return
        self.closed = True
        if self.has_audio and self.has_video:
            self.fill_silence(self.end)  # the audio lasts as long as the picture
        try:
            self.output.close()
        except Exception:
            logger.exception("closing recording %s failed", self.path)
