"""Who is speaking, read from each Opus packet's RTP audio-level header extension (RFC 6464),
never by decoding.

A publisher's packets carry their level as -dBov (0 loudest, 127 silence). A seat starts speaking
once its packets have stayed at or above the threshold for `start_after` seconds, and stops after
`stop_after` seconds with none (speech has gaps between words: a pause is not an end). A seat
whose mic is off never speaks. The set of speaking seats is reported when it changes, at most
`max_per_second` times a second (the last set wins). A publisher that sends no level extension
is never speaking: nothing is decoded to find out.

Talk time: each stretch of speech (from its first loud packet to its last) that lasted long enough
to count as speaking is reported to `on_talk(seat, seconds)` when it ends (silence, mic off,
publisher gone, detector closed); `count_talk()` reports the part so far of stretches still going,
so a long monologue is counted as it goes. Pauses shorter than `stop_after` are part of the stretch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

OnSpeaking = Callable[[list[int]], None]
OnTalk = Callable[[int, float], None]


@dataclass
class _Voice:
    loud_since: float | None = None  # the first loud packet of this stretch of speech
    last_loud: float = 0.0
    speaking: bool = False
    counted_until: float | None = None  # how much of this stretch on_talk has been told of


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
        on_talk: OnTalk | None = None,
    ) -> None:
        self._on_change = on_change
        self.on_talk = on_talk  # (seat, seconds) of speech, as stretches end (media.speaking_time)
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
        if voice.loud_since is not None and now - voice.last_loud > self._stop_after:
            self._end_stretch(seat, voice)  # (the timer that ends stretches ran late)
        if voice.loud_since is None:
            voice.loud_since = now
        voice.last_loud = now
        if not voice.speaking and now - voice.loud_since >= self._start_after:
            voice.speaking = True
            self._changed()
        self._keep_watching()

    def muted(self, seat: int) -> None:
        """The seat's mic went off (or its publisher left): it is not speaking, from now on."""
        voice = self._voices.pop(seat, None)
        if voice is not None:
            self._end_stretch(seat, voice)
        if voice is not None and voice.speaking:
            self._changed()

    def speaking(self) -> list[int]:
        return sorted(seat for seat, voice in self._voices.items() if voice.speaking)

    def check(self) -> None:
        """Seats silent for `stop_after` stop speaking (called on a timer while anyone is loud)."""
        now = self._clock()
        stopped = False
        for seat, voice in self._voices.items():
            if voice.loud_since is not None and now - voice.last_loud >= self._stop_after:
                stopped = stopped or voice.speaking
                self._end_stretch(seat, voice)
                voice.speaking = False
        if stopped:
            self._changed()

    def count_talk(self, seat: int | None = None) -> None:
        """Report to `on_talk` the speech so far of stretches still going (of `seat`, or all)."""
        for index, voice in self._voices.items():
            if seat is None or index == seat:
                self._count(index, voice)

    def close(self) -> None:
        """Stop the timers; every stretch still going is counted as it stands."""
        self.count_talk()
        for handle in (self._pending, self._watch):
            if handle is not None:
                handle.cancel()
        self._pending = self._watch = None

    # -- talk time ------------------------------------------------------------------------

    def _count(self, seat: int, voice: _Voice) -> None:
        """Tell `on_talk` of the part of `voice`'s stretch not yet told, if it lasted long enough
        to be speech (the same `start_after` that makes a seat speaking)."""
        if self.on_talk is None or voice.loud_since is None:
            return
        if voice.last_loud - voice.loud_since < self._start_after:
            return
        start = voice.loud_since if voice.counted_until is None else voice.counted_until
        voice.counted_until = voice.last_loud
        if voice.last_loud > start:
            self.on_talk(seat, voice.last_loud - start)

    def _end_stretch(self, seat: int, voice: _Voice) -> None:
        self._count(seat, voice)
        voice.loud_since = voice.counted_until = None

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
