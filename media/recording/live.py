"""What the live room shows of its recording: the "REC" indicator everyone sees and the host's
switch. Plugged into rooms from MediaConfig.ready (rooms imports nothing of media):

- the room page's context (`rooms.pages.register_page`): `recording_site` (the site records at all:
  no indicator and no switch otherwise), `recording` (this room records now) and `recording_url`
  (where the host's switch posts);
- `room.state` → `recording` (`rooms.snapshot.register_state`), for a socket that joins later;
- after a commit that turned the room's switch (`actions.on_switch`), the ephemeral frame
  `{"type": "recording", "enabled": bool}` to every socket of the room, so every open page updates.

Reading never creates a Replay row: no row means the default (on, unless the site is off)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.urls import reverse

from media.recording.actions import recording_wanted
from rooms.catalogue import RECORDING
from rooms.events import broadcast
from rooms.models import Room
from rooms.snapshot import AnyUser


def page_part(room: Room) -> dict[str, object]:
    return {
        "recording_site": bool(settings.RECORDING_ENABLED),
        "recording": recording_wanted(room.pk),
        "recording_url": reverse("media:recording", kwargs={"slug": room.slug}),
    }


def add_to_state(room: Room, user: AnyUser, state: dict[str, Any]) -> None:
    state["recording"] = recording_wanted(room.pk)


def announce(room_id: int, enabled: bool) -> None:
    """Runs after the commit that turned the switch (a sync view's thread)."""
    async_to_sync(broadcast)(room_id, {"type": RECORDING, "enabled": bool(enabled and settings.RECORDING_ENABLED)})
