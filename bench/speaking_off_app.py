"""liverooms with speaking detection turned off, for bench/speaking.py's baseline.

    PYTHONPATH=bench .venv/bin/python -m daphne -b 127.0.0.1 -p 8001 speaking_off_app:application

The same application as `liverooms.asgi:application`, except that the relay does not wrap its
publishers' audio receivers (`RoomRelay._hear_levels`, media/relay.py): no level is read, no
detector runs, no `speaking` frame is sent. That is the relay as it was before issue #18.
"""

from __future__ import annotations

from typing import Any

from liverooms.asgi import application  # sets Django up first
from media.relay import RoomRelay


def _deaf(self: RoomRelay, seat: Any, receiver: Any) -> None:
    """Leave the receiver as aiortc made it."""


RoomRelay._hear_levels = _deaf  # type: ignore[method-assign]

__all__ = ["application"]
