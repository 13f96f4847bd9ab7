"""A room's audience figures: peak and unique viewers, comments, reactions.

Nothing here runs per message. Each process's hub hands over what it saw every few seconds
(`record_presence`: one batch of writes) and a new viewer high as soon as it sees one
(`record_peak`), and a Celery task counts the rest (`refresh`), which also announces a new viewer
peak (`viewer.peak`, a notice: rooms.events.notify; webhooks hear it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rooms.catalogue import VIEWER_PEAK
from rooms.events import notify
from rooms.frames import room_data
from rooms.models import Room, RoomStats, RoomViewer

# Other apps' figures of a room, counted by `refresh`: (room_id) -> {RoomStats field: value}
# (comments: comments, removals, questions, votes). Registered from their AppConfig.ready.
Figures = Callable[[int], dict[str, int]]
_FIGURES: list[Figures] = []


def register_figures(count: Figures) -> None:
    _FIGURES.append(count)


def viewer_key(*, user_id: int | None, session_key: str | None, client: str) -> str:
    """Who a viewer is, for counting unique viewers: the account, else the browser session, else
    the address and user agent (hashed: the key is a count, not a record of anyone)."""
    if user_id is not None:
        return f"user:{user_id}"
    source = f"session:{session_key}" if session_key else f"client:{client}"
    return "anon:" + hashlib.sha256(source.encode()).hexdigest()[:32]


def record_presence(*, room_id: int, viewer_keys: Iterable[str], viewers: int, reactions: Mapping[str, int]) -> None:
    """Add one hub's tallies since its last report: the viewers it saw, the room's viewer count
    at its highest meanwhile, and the reactions its sockets sent."""
    RoomStats.objects.get_or_create(room_id=room_id)
    keys = list(viewer_keys)
    if keys:
        RoomViewer.objects.bulk_create(
            [RoomViewer(room_id=room_id, key=key) for key in keys], ignore_conflicts=True, batch_size=500
        )
    if viewers:
        RoomStats.objects.filter(room_id=room_id, peak_viewers__lt=viewers).update(peak_viewers=viewers)
    hearts = reactions.get("heart", 0)
    others = sum(reactions.values()) - hearts
    if hearts or others:
        RoomStats.objects.filter(room_id=room_id).update(
            hearts=F("hearts") + hearts, other_reactions=F("other_reactions") + others
        )


def record_peak(*, room_id: int, viewers: int) -> None:
    """The room's viewer count was seen at `viewers`: raise its peak if that is higher."""
    if viewers and not RoomStats.objects.filter(room_id=room_id, peak_viewers__lt=viewers).update(peak_viewers=viewers):
        RoomStats.objects.get_or_create(room_id=room_id, defaults={"peak_viewers": viewers})


def refresh(*, room_id: int) -> RoomStats:
    """Count what is cheaper to count than to track (comments, unique viewers), and announce a
    viewer peak that rose since the last announcement."""
    stats, _ = RoomStats.objects.get_or_create(room_id=room_id)
    figures: dict[str, int] = {}
    for count in _FIGURES:
        figures.update(count(room_id))
    for field, value in figures.items():
        setattr(stats, field, value)
    stats.unique_viewers = RoomViewer.objects.filter(room_id=room_id).count()
    stats.refreshed_at = timezone.now()
    stats.save(update_fields=[*figures, "unique_viewers", "refreshed_at"])
    _announce_peak(room_id)
    stats.refresh_from_db()
    return stats


def _announce_peak(room_id: int) -> None:
    with transaction.atomic():
        # The room's lock first, as every event of the room takes it: webhook events of one room
        # are numbered in the order they commit.
        room = Room.objects.select_for_update().get(pk=room_id)
        stats = RoomStats.objects.select_for_update().get(room_id=room_id)
        if stats.peak_viewers <= stats.peak_announced:
            return
        stats.peak_announced = stats.peak_viewers
        stats.save(update_fields=["peak_announced"])
        notify(VIEWER_PEAK, room=room, data={"room": room_data(room), "viewers": stats.peak_viewers})


def rooms_to_refresh() -> list[int]:
    """Live rooms, and ended ones whose figures were last counted before they ended."""
    stale_ended = Q(status=Room.Status.ENDED) & (
        Q(stats__isnull=True) | Q(stats__refreshed_at__isnull=True) | Q(stats__refreshed_at__lt=F("ended_at"))
    )
    return list(Room.objects.filter(Q(status=Room.Status.LIVE) | stale_ended).values_list("pk", flat=True))
