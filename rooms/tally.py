"""Reactions as the room sees them: checked when a socket sends one, tallied per process by the
room's hub (`ReactionTally`) and added to the room's totals. Which kinds exist and where totals
live belong to the app that owns reactions (comments.reactions), registered from its
AppConfig.ready (`register_reactions`), so rooms imports none of it.

Sockets add to a local tally; every tick (200 ms) the hub publishes it to the room group (one
message per process) and adds it to the totals; every hub merges what it hears and writes one
`reactions` frame to its sockets every `reaction_ticks` ticks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from liverooms.errors import ActionError
from rooms import reaction_seconds
from rooms.catalogue import REACTIONS


@dataclass(frozen=True)
class Reactions:
    check: Callable[[str], object]  # raises ActionError for a kind that does not exist
    add_to_totals: Callable[..., Awaitable[None]]  # (*, room_id, counts)


_registered: list[Reactions] = []


def register_reactions(*, check: Callable[[str], object], add_to_totals: Callable[..., Awaitable[None]]) -> None:
    _registered[:] = [Reactions(check, add_to_totals)]


def check_reaction(kind: str) -> None:
    if not _registered:
        raise ActionError("bad_request", _("This server takes no reactions."))
    _registered[0].check(kind)


async def add_to_totals(*, room_id: int, counts: dict[str, int]) -> None:
    if _registered:
        await _registered[0].add_to_totals(room_id=room_id, counts=counts)


def reaction_ticks(sockets: int) -> int:
    """Ticks between `reactions` frames: every 200 ms for a small room, down to one a second for
    a crowd. A frame costs the same to write as a comment, and hearts only need to look alive."""
    if sockets <= 500:
        return 1
    if sockets <= 1000:
        return 2
    if sockets <= 2000:
        return 3
    return 5


class ReactionTally:
    """One hub's reactions: its sockets' own (to publish), every process's (to write), and its
    sockets' since the last report of the room's figures."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self._outgoing: Counter[str] = Counter()  # reactions of local sockets, not yet published
        self._incoming: Counter[str] = Counter()  # reactions heard from every process, not yet written
        self._reacted: Counter[str] = Counter()  # local reactions since the last figures report

    def add(self, kind: str) -> None:
        self._outgoing[kind] += 1

    def heard(self, counts: dict[str, int]) -> None:
        self._incoming.update(counts)

    async def publish(self, send: Callable[[dict[str, object]], Awaitable[None]]) -> None:
        """Send the local tally to every process (`send`: to the room group) and add it to the
        totals. With the layer down the tally is dropped (reactions are ephemeral; a burst of
        stale hearts after an outage would be wrong) but still counted in the room's figures."""
        if not self._outgoing:
            return
        counts, self._outgoing = dict(self._outgoing), Counter()
        self._reacted.update(counts)
        reaction_seconds.note(self.room_id, counts)  # the replay's hearts timeline
        await send({"type": "room.reactions", "counts": counts})
        await add_to_totals(room_id=self.room_id, counts=counts)

    def frame_due(self, ticks: int, sockets: int) -> dict[str, object] | None:
        """The `reactions` frame to write on this tick, if any."""
        if not self._incoming or ticks % reaction_ticks(sockets):
            return None
        counts, self._incoming = dict(self._incoming), Counter()
        return {"type": REACTIONS, "counts": counts}

    def take_reacted(self) -> dict[str, int]:
        """The local reactions since the last call (for the room's figures)."""
        reacted, self._reacted = dict(self._reacted), Counter()
        return reacted
