"""What other apps add to the room's pages: the live room page's context (comments: the recent
ones, readable without JavaScript) and an ended room's recap figures (comments: how many).
Registered from their AppConfig.ready, so rooms.views imports none of them."""

from __future__ import annotations

from collections.abc import Callable

from rooms.models import Room

PagePart = Callable[[Room], dict[str, object]]

_PAGE: list[PagePart] = []
_RECAP: list[PagePart] = []


def register_page(part: PagePart) -> None:
    """`part(room)`: template context for the live room page (rooms/room.html)."""
    _PAGE.append(part)


def register_recap(part: PagePart) -> None:
    """`part(room)`: figures for an ended room's recap (rooms/recap.html's `recap`)."""
    _RECAP.append(part)


def page_parts(room: Room) -> dict[str, object]:
    return {key: value for part in _PAGE for key, value in part(room).items()}


def recap_parts(room: Room) -> dict[str, object]:
    return {key: value for part in _RECAP for key, value in part(room).items()}
