"""Who is speaking, read from each Opus packet's RTP audio-level header extension (RFC 6464),
never by decoding.

A publisher's packets carry their level as -dBov (0 loudest, 127 silence). A seat starts speaking
once its packets have stayed at or above the threshold for `start_after` seconds, and stops after
`stop_after` seconds with none (speech has gaps between words: a pause is not an end). A seat
whose mic is off never speaks. The set of speaking seats is reported when it changes, at most
`max_per_second` times a second (the last set wins). A publisher that sends no level extension
is never speaking: nothing is decoded to find out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

OnSpeaking = Callable[[list[int]], None]


@dataclass
class _Voice:
    loud_since: float | None = None  # the first loud packet of this stretch of speech
    last_loud: float = 0.0
    speaking: bool = False


class SpeakingDetector:
    def __init__(
        self,
        on_change: OnSpeaking,
        *,
        threshold_dbov: float = -50.0,
        start_after: float = 0.1,
        stop_after: float = 0.5,
        max_per_second: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_change = on_change
        self._loudest_quiet = int(-threshold_dbov)  # levels (-dBov) at or below this are loud
        self._start_after, self._stop_after = start_after, stop_after
        self._every = 1.0 / max_per_second
        self._clock = clock
        self._voices: dict[int, _Voice] = {}
        self._reported: list[int] = []
        self._reported_at = -1e9
        self._pending: asyncio.TimerHandle | None = None
        self._watch: asyncio.TimerHandle | None = None

    def heard(self, seat: int, level: int) -> None:
        """A packet of `seat` with audio level `level` (-dBov) arrived (its mic is on)."""
        if level > self._loudest_quiet:
            return
        now = self._clock()
        voice = self._voices.setdefault(seat, _Voice())
        if voice.loud_since is None or now - voice.last_loud > self._stop_after:
            voice.loud_since = now
        voice.last_loud = now
        if not voice.speaking and now - voice.loud_since >= self._start_after:
            voice.speaking = True
            self._changed()
        self._keep_watching()

    def muted(self, seat: int) -> None:
        """The seat's mic went off (or its publisher left): it is not speaking, from now on."""
        voice = self._voices.pop(seat, None)
        if voice is not None and voice.speaking:
            self._changed()

    def speaking(self) -> list[int]:
        return sorted(seat for seat, voice in self._voices.items() if voice.speaking)

    def check(self) -> None:
        """Seats silent for `stop_after` stop speaking (called on a timer while anyone is loud)."""
        now = self._clock()
        stopped = False
        for voice in self._voices.values():
            if voice.loud_since is not None and now - voice.last_loud >= self._stop_after:
                stopped = stopped or voice.speaking
                voice.speaking, voice.loud_since = False, None
        if stopped:
            self._changed()

    def close(self) -> None:
        for handle in (self._pending, self._watch):
            if handle is not None:
                handle.cancel()
        self._pending = self._watch = None

    # -- reporting, at most max_per_second -------------------------------------------------

    def _changed(self) -> None:
        if self._pending is not None:
            return  # a report is scheduled: it will carry the set as it is then
        wait = self._reported_at + self._every - self._clock()
        if wait <= 0:
            self._report()
        else:
            self._pending = asyncio.get_running_loop().call_later(wait, self._report)

    def _report(self) -> None:
        self._pending = None
        now_speaking = self.speaking()
        if now_speaking == self._reported:
            return
        self._reported, self._reported_at = now_speaking, self._clock()
        self._on_change(now_speaking)

    def _keep_watching(self) -> None:
        if self._watch is None:
            self._watch = asyncio.get_running_loop().call_later(self._stop_after / 5, self._tick)

    def _tick(self) -> None:
        self._watch = None
        self.check()
        if any(voice.loud_since is not None or voice.speaking for voice in self._voices.values()):
            self._keep_watching()
