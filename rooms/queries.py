"""Read-side helpers of the rooms app."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from rooms.models import Room, Seat
from rooms.presence import viewer_counts


def live_rooms(limit: int = 50) -> Sequence[Room]:
    """Live rooms, newest first, with their seated users (`on_stage`), how many seats are taken
    (`seated`), whether any seat publishes (`on_air`: LIVE; open but nobody publishing yet is
    "starting soon") and how many watch (`viewers`)."""
    rooms = list(
        Room.objects.filter(status=Room.Status.LIVE)
        .select_related("host")
        .annotate(
            seated=Count("seats", filter=Q(seats__user__isnull=False)),
            on_air=Exists(Seat.objects.filter(room=OuterRef("pk"), publishing=True)),
        )
        .prefetch_related(
            Prefetch(
                "seats",
                queryset=Seat.objects.filter(user__isnull=False).select_related("user").order_by("index"),
                to_attr="on_stage",
            )
        )
        .order_by("-created_at")[:limit]
    )
    counts = viewer_counts([room.pk for room in rooms])
    for room in rooms:
        room.viewers = counts[room.pk]  # type: ignore[attr-defined]
    return rooms
