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
    data = {
        "index": seat.index,
        "user": user_data(seat.user),
        "camera": seat.camera_shown,
        "mic": seat.mic,
        "publishing": seat.publishing,
    }
    if seat.audio_only:  # only then: the seat's publisher sends no video (its camera shows off)
        data["audio_only"] = True
    return data
