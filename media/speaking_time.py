"""Talk time per seat: how long each user on stage spoke, a room figure its host sees afterwards.

The room's relay already tells who speaks (media.speaking, from each packet's audio level, never
decoding); its detector also reports every stretch of speech as it ends (from its first loud
packet to its last, pauses shorter than SPEAKING_STOP_MS included). `attach(relay, room_id)`
gives the room's `TalkTally`, which credits those seconds to the user holding that seat at that
moment (`seated`, fed by the seats the room's media reads and hears: media.services) and adds its
tallies to the room's `TalkTime` rows every FLUSH_EVERY seconds and once more when the room's
media closes in this process (the room ended, this process stopped being its origin, or it shuts
down). A user who published from a seat gets a row even if they never spoke (0 s).

Only the room's origin holds its publishers, so only its tally hears anything; an edge's stays
empty and writes nothing. A process killed outright loses at most FLUSH_EVERY seconds of talk;
its successor as origin adds to the same rows. A muted mic is never heard (the relay reads no
level while the mic is off), so it never counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext, ngettext

from liverooms.aio import background, cancel_and_wait
from liverooms.db import db_async
from media.models import TalkTime
from rooms.models import Room

if TYPE_CHECKING:
    from media.relay import RoomRelay

logger = logging.getLogger(__name__)

FLUSH_EVERY = 10.0  # TALK_TIME_FLUSH_SECONDS' default: seconds between writes of a room's tallies

Key = tuple[int, int]  # (seat index, user id)


class TalkTally:
    """One room's talk seconds per (seat, user) heard by this process's relay, not yet written."""

    def __init__(self, room_id: int, relay: RoomRelay, flush_every: float = FLUSH_EVERY) -> None:
        self.room_id = room_id
        self._relay = relay
        self.flush_every = flush_every
        self._holders: dict[int, int | None] = {}  # seat index -> user id
        self._pending: dict[Key, float] = {}  # seconds heard since the last write
        self._written: set[Key] = set()  # keys whose row exists
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None and not self._closed:
            self._task = background(self._flush_every())

    # -- what the relay and the room's seats say --------------------------------------------

    def heard(self, seat: int, seconds: float) -> None:
        """The detector's `on_talk`: `seat` spoke for `seconds` more."""
        user = self._holders.get(seat)
        if user is not None and seconds > 0:
            key = (seat, user)
            self._pending[key] = self._pending.get(key, 0.0) + seconds

    def seated(self, index: int, user_id: int | None, *, publishing: bool) -> None:
        """Seat `index` is held by `user_id` (None: empty) from now on; `publishing`: its media
        flows (somewhere). Speech heard before a change of holder stays the previous holder's."""
        if self._holders.get(index, user_id) != user_id:
            self._relay.speaking.count_talk(index)
        self._holders[index] = user_id
        if user_id is not None and publishing and self._relay.publisher_session(index) is not None:
            self._pending.setdefault((index, user_id), 0.0)  # publishes here: a row, even at 0 s

    # -- writing ---------------------------------------------------------------------------

    def take(self) -> dict[Key, int]:
        """What to write now, in whole milliseconds (stretches still going count so far): the
        keys with talk since the last write, and new keys (0 ms)."""
        if not self._relay.closed:
            self._relay.speaking.count_talk()
            for index, user in self._holders.items():
                if user is not None and self._relay.is_publishing(index):
                    self._pending.setdefault((index, user), 0.0)
        taken: dict[Key, int] = {}
        for key, seconds in self._pending.items():
            milliseconds = round(seconds * 1000)
            if milliseconds > 0 or key not in self._written:
                taken[key] = milliseconds
        self._pending.clear()
        return taken

    async def flush(self) -> None:
        talk = self.take()
        if not talk:
            return
        try:
            await db_async(add_talk)(room_id=self.room_id, talk=talk)
        except Exception:
            logger.exception("room %s: could not write talk time; kept for the next try", self.room_id)
            for key, milliseconds in talk.items():
                self._pending[key] = self._pending.get(key, 0.0) + milliseconds / 1000
            return
        self._written.update(talk)

    async def close(self) -> None:
        """The room's media closes here (after its relay: every stretch still going was counted
        as it closed): write what is left."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            for error in await cancel_and_wait([task]):
                logger.error("room %s: the talk-time flush loop had failed", self.room_id, exc_info=error)
        await self.flush()

    async def _flush_every(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            await self.flush()


def attach(relay: RoomRelay, room_id: int) -> TalkTally:
    """The room's tally, told of every stretch of speech the relay's detector hears."""
    tally = TalkTally(room_id, relay, flush_every=settings.TALK_TIME_FLUSH_SECONDS)
    relay.speaking.on_talk = tally.heard
    tally.start()
    return tally


def add_talk(*, room_id: int, talk: Mapping[Key, int]) -> None:
    """Add `talk` (milliseconds per (seat, user)) to the room's rows, making missing ones."""
    for (seat, user_id), milliseconds in sorted(talk.items()):
        with transaction.atomic():
            row, created = TalkTime.objects.get_or_create(
                room_id=room_id, seat_index=seat, user_id=user_id, defaults={"milliseconds": milliseconds}
            )
            if not created and milliseconds:
                TalkTime.objects.filter(pk=row.pk).update(milliseconds=F("milliseconds") + milliseconds)


# -- the host's figures after the live (rooms.pages.register_recap) --------------------------


def talk_in_words(milliseconds: int) -> str:
    """How long, in words: "1 h 02 min", "3 min 05 s", "12 s"."""
    seconds = round(milliseconds / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return gettext("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": seconds}
    return ngettext("%(seconds)d s", "%(seconds)d s", seconds) % {"seconds": seconds}


def recap(room: Room) -> dict[str, object]:
    """`talk_time`: each (seat, user) that published or spoke, seat by seat, with how long."""
    rows = TalkTime.objects.filter(room=room).select_related("user").order_by("seat_index", "first_seen_at", "pk")
    return {
        "talk_time": [
            {
                "seat": row.seat_index,
                "username": row.user.get_username(),
                "seconds": round(row.seconds),
                "words": talk_in_words(row.milliseconds),
            }
            for row in rows
        ]
    }
