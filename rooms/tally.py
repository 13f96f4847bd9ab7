"""Reactions as the room sees them: checked when a socket sends one, tallied per process by the
room's hub and added to the room's totals. Which kinds exist and where totals
live belong to the app that owns reactions (comments.reactions), registered from its
AppConfig.ready (`register_reactions`), so rooms imports none of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from liverooms.errors import ActionError


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
