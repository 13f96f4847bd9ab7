"""How rooms, seats and users look on the wire (DESIGN.md, the room websocket)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from rooms.models import Room, Seat


def user_data(user: AbstractBaseUser | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username()}


def room_data(room: Room) -> dict[str, Any]:
    return {
        "slug": room.slug,
        "title": room.title,
        "status": room.status,
        "comments_enabled": room.comments_enabled,
    }


def seat_data(seat: Seat) -> dict[str, Any]:
    return {
        "index": seat.index,
        "user": user_data(seat.user),
        "camera": seat.camera,
        "mic": seat.mic,
        "publishing": seat.publishing,
    }
