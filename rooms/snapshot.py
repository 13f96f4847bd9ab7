"""`room.state`: everything a socket needs to draw the room, consistent with one `seq`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from comments.frames import comment_data
from comments.models import Comment
from comments.reactions import reaction_totals
from rooms.access import role_in
from rooms.frames import room_data, seat_data, user_data
from rooms.models import Room, SeatInvite, SeatRequest

RECENT_COMMENTS = 50


def room_state(*, room_id: int, user: User | AnonymousUser, viewers: int) -> dict[str, Any]:
    """The snapshot frame. It holds the room's row lock while reading, so no event can commit
    between the `seq` it names and the rows it shows."""
    with transaction.atomic():
        room = Room.objects.select_for_update().select_related("host").get(pk=room_id)
        seats = list(room.seats.select_related("user").order_by("index"))
        recent = list(
            Comment.objects.filter(room=room, removed_at__isnull=True)
            .select_related("author")
            .order_by("-created_at", "-id")[:RECENT_COMMENTS]
        )
        mine = next((s for s in seats if user.is_authenticated and s.user_id == user.pk), None)
        you: dict[str, Any] = {
            "user": user_data(user) if isinstance(user, User) else None,
            "role": role_in(room, user, mine),
            "seat": mine.index if mine else None,
        }
        if mine is not None:
            # where and how to publish this seat (the studio page; OBS/FFmpeg take the same two)
            you["whip"] = {"url": f"/rooms/{room.slug}/whip", "token": mine.publish_token}
        if you["role"] == "host":
            requests = SeatRequest.objects.filter(room=room).select_related("user")
            you["requests"] = [user_data(r.user) for r in requests]
        elif user.is_authenticated:
            offer = SeatInvite.objects.filter(room=room, user_id=user.pk).first()
            you["offer"] = offer.index if offer else None
        return {
            "type": "room.state",
            "seq": room.last_seq,
            "room": {**room_data(room), "host": user_data(room.host)},
            "seats": [seat_data(seat) for seat in seats],
            "viewers": viewers,
            "you": you,
            "comments": [comment_data(c) for c in reversed(recent)],
            "reactions": reaction_totals(room_id=room.pk),
        }
