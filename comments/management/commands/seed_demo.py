"""Create the demo accounts and a demo live room for `make run`; safe to run again."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from comments.moderation import moderators_group
from rooms import actions, seats
from rooms.models import Room

DEMO_PASSWORD = "liverooms-demo"  # noqa: S105 - printed for the local demo on purpose
DEMO_USERS = [
    ("alice", "host of the demo room"),
    ("bob", "guest on seat 1 of the demo room"),
    ("carol", "viewer"),
    ("mod", "moderator (can log into /admin/)"),
]


class Command(BaseCommand):
    help = "Create demo users (alice hosts, bob guests, carol watches, mod moderates) and a live demo room."

    def handle(self, *args: Any, **options: Any) -> None:
        users = {name: self._user(name) for name, _role in DEMO_USERS}
        moderator = users["mod"]
        moderator.is_staff = True
        moderator.save(update_fields=["is_staff"])
        moderator.groups.add(moderators_group())

        room = Room.objects.filter(host=users["alice"], status=Room.Status.LIVE).first()
        if room is None:
            room = actions.create_room(host=users["alice"], title="Alice's demo live")
            seats.seat_user(room=room, user=users["bob"], index=1)

        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for name, role in DEMO_USERS:
            self.stdout.write(f"  {name:<6} {role}")
        # `make run` serves on $(HOST):$(PORT); `make run PORT=9000` (or PORT in the environment) reaches here
        host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
        self.stdout.write(f"Demo room: http://{host}:{port}/rooms/{room.slug}/")

    def _user(self, username: str) -> User:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
