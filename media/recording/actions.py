"""Every change to a replay goes through these functions (views, admin, tasks, the writer).

- `set_recording(room, user, enabled)`: the host turns recording off (or on again), before or
  during the live; the room's recorder stops writing at once (it checks the switch it is given).
- `set_private(replay, user, private)`: only the host may then watch the replay.
- `mark_ready(room)`: the live ended and none of its recordings is still open → `ready_at`,
  webhook `recording.ready`, the 4-up composition queued.
- `delete_replay(replay, reason)`: files gone, `deleted_at` set, webhook `recording.deleted`
  (the host at once, or retention after REPLAY_DAYS).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from liverooms.errors import ActionError
from media.models import Recording, Replay
from rooms.access import require_host, require_user
from rooms.catalogue import RECORDING_DELETED, RECORDING_READY
from rooms.events import notify
from rooms.frames import room_data
from rooms.models import Room

logger = logging.getLogger(__name__)

# In-process listeners of the switch (the room's recorder, media.recording.recorder): room id -> callbacks.
_switch_listeners: list[Any] = []


def on_switch(callback: Any) -> None:
    """`callback(room_id, enabled)` after a commit that turned a room's recording on or off."""
    _switch_listeners.append(callback)


def replay_url(room: Room) -> str:
    return f"/rooms/{room.slug}/replay/"


def ensure_replay(room: Room) -> Replay:
    replay, _created = Replay.objects.get_or_create(room=room)
    return replay


def recording_wanted(room_id: int) -> bool:
    """Should this room record now? The site's switch, then the room's (on unless the host said off)."""
    if not settings.RECORDING_ENABLED:
        return False
    enabled = Replay.objects.filter(room_id=room_id).values_list("enabled", flat=True).first()
    return True if enabled is None else bool(enabled)


def set_recording(*, room: Room, user: User | AnonymousUser, enabled: bool) -> Replay:
    host = require_user(user)
    require_host(room, host)
    if not isinstance(enabled, bool):
        raise ActionError("bad_request", "`enabled` is true or false.")
    if enabled and not settings.RECORDING_ENABLED:
        raise ActionError("forbidden", gettext("Recording is turned off on this server."))
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if not locked.is_live:
            raise ActionError("room_ended", gettext("This live has ended."))
        replay = ensure_replay(locked)
        if replay.enabled != enabled:
            replay.enabled = enabled
            replay.save(update_fields=["enabled"])
            transaction.on_commit(lambda: _switched(room.pk, enabled))
    return replay


def _switched(room_id: int, enabled: bool) -> None:
    for callback in list(_switch_listeners):
        try:
            callback(room_id, enabled)
        except Exception:
            logger.exception("recording switch listener failed")


def set_private(*, replay: Replay, user: User | AnonymousUser, private: bool) -> Replay:
    host = require_user(user)
    require_host(replay.room, host)
    if not isinstance(private, bool):
        raise ActionError("bad_request", "`private` is true or false.")
    Replay.objects.filter(pk=replay.pk).update(private=private)
    replay.private = private
    return replay


def _replay_data(replay: Replay) -> dict[str, Any]:
    return {
        "url": replay_url(replay.room),
        "private": replay.private,
        "ready_at": replay.ready_at.isoformat() if replay.ready_at else None,
        "recordings": replay.recordings.count(),
    }


def mark_ready(*, room_id: int) -> bool:
    """The replay is ready once the live ended and no recording of it is still open. Idempotent:
    True only for the call that set `ready_at`."""
    with transaction.atomic():
        replay = Replay.objects.select_for_update().select_related("room").filter(room_id=room_id).first()
        if replay is None or replay.ready_at is not None or replay.deleted_at is not None:
            return False
        if replay.room.is_live or replay.recordings.filter(ended_at__isnull=True).exists():
            return False
        if not replay.recordings.exists():
            return False  # nothing was recorded: no replay to announce
        replay.ready_at = timezone.now()
        replay.composed_status = Replay.Composed.PENDING
        replay.save(update_fields=["ready_at", "composed_status"])
        notify(RECORDING_READY, room=replay.room, data={"room": room_data(replay.room), "replay": _replay_data(replay)})
        transaction.on_commit(lambda: _queue_compose(replay.pk), robust=True)
    return True


def _queue_compose(replay_id: int) -> None:
    from media.tasks import compose_replay

    compose_replay.delay(replay_id)


def delete_replay(*, replay: Replay, reason: str = "host") -> bool:
    """Delete the replay's files now; the rows stay (sizes, durations: the admin's record) with
    `deleted_at`. False if it was already deleted."""
    with transaction.atomic():
        locked = Replay.objects.select_for_update().select_related("room").get(pk=replay.pk)
        if locked.deleted_at is not None:
            return False
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        names = [r.file.name for r in locked.recordings.all() if r.file.name]
        if locked.composed and locked.composed.name:
            names.append(locked.composed.name)
        notify(
            RECORDING_DELETED,
            room=locked.room,
            data={"room": room_data(locked.room), "replay": _replay_data(locked), "reason": reason},
        )
        transaction.on_commit(lambda: _delete_files(names))
    replay.deleted_at = locked.deleted_at
    return True


def delete_as_host(*, replay: Replay, user: User | AnonymousUser) -> bool:
    host = require_user(user)
    require_host(replay.room, host)
    return delete_replay(replay=replay, reason="host")


def _delete_files(names: list[str]) -> None:
    from media.recording.storage import delete_file

    for name in names:
        delete_file(name)


def replay_path(replay: Replay) -> str:
    return reverse("media:replay-composed", kwargs={"slug": replay.room.slug})


def note_recording_closed(recording: Recording) -> None:
    """A recording just closed: if it was the live's last, the replay may be ready."""
    mark_ready(room_id=recording.replay.room_id)
