"""Read-side helpers of the rooms app."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from rooms.models import Room


def live_rooms(limit: int = 50) -> QuerySet[Room]:
    """Live rooms, newest first, with how many seats are taken."""
    return (
        Room.objects.filter(status=Room.Status.LIVE)
        .select_related("host")
        .annotate(seated=Count("seats", filter=Q(seats__user__isnull=False)))
        .order_by("-created_at")[:limit]
    )
