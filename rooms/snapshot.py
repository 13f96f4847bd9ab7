"""`room.state`: everything a socket needs to draw the room, consistent with one `seq`."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from comments.actions import active_ban
from comments.frames import comment_data, question_data
from comments.models import VISIBLE, Comment, Hotline, QuestionVote
from comments.moderators import is_moderator, moderators_data
from comments.questions import open_questions
from comments.reactions import reaction_totals
from comments.review import HELD_SHOWN, held_in
from rooms.access import role_in
from rooms.frames import room_data, seat_data, user_data
from rooms.models import Room, SeatInvite, SeatRequest

RECENT_COMMENTS = 50


READ_TRIES = 3


def room_state(*, room_id: int, user: User | AnonymousUser, viewers: int) -> dict[str, Any]:
    """The snapshot frame, consistent with the `seq` it names.

    A join does not take the room's write lock (a flood of joins would queue every commenter
    behind it): the rows are read without a lock, then the room's `last_seq` once more. Every
    change that shows here commits with an event, so an unchanged `last_seq` means nothing
    committed meanwhile. A busy room that moved on is read again; after READ_TRIES, under the lock.
    """
    for _ in range(READ_TRIES):
        state = _read(room_id=room_id, user=user, viewers=viewers, lock=False)
        if Room.objects.values_list("last_seq", flat=True).get(pk=room_id) == state["seq"]:
            return state
    return _read(room_id=room_id, user=user, viewers=viewers, lock=True)


def _read(*, room_id: int, user: User | AnonymousUser, viewers: int, lock: bool) -> dict[str, Any]:
    with transaction.atomic() if lock else contextlib.nullcontext():
        rooms = Room.objects.select_for_update() if lock else Room.objects.all()
        room = rooms.select_related("host").get(pk=room_id)
        seats = list(room.seats.select_related("user").order_by("index"))
        recent = list(
            Comment.objects.filter(VISIBLE, room=room)
            .select_related("author")
            .order_by("-created_at", "-id")[:RECENT_COMMENTS]
        )
        mine = next((s for s in seats if user.is_authenticated and s.user_id == user.pk), None)
        you: dict[str, Any] = {
            "user": user_data(user) if isinstance(user, User) else None,
            "role": role_in(room, user, mine, moderator=is_moderator(user=user, room=room)),
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
        hotline = Hotline.objects.filter(room=room).select_related("pinned__author", "spotlight__author").first()
        queue = open_questions(room)
        reviews = you["role"] in ("host", "moderator") or (user.is_authenticated and is_moderator(user=user, room=room))
        held = [comment_data(c) for c in held_in(room)] if reviews else None
        if isinstance(user, User):  # your own comments waiting for review ("pending review" on the page)
            mine_held = Comment.objects.filter(room=room, author=user, review=Comment.Review.HELD, removed_at=None)
            you["held"] = [comment_data(c) for c in mine_held.order_by("created_at")[:HELD_SHOWN]]
        if isinstance(user, User) and (ban := active_ban(user=user, room=room)) is not None:
            you["banned_until"] = ban.until.isoformat() if ban.until else None  # None: for good
        if user.is_authenticated:
            you["votes"] = sorted(
                QuestionVote.objects.filter(user_id=user.pk, question__in=queue).values_list("question_id", flat=True)
            )
        pinned = hotline.pinned if hotline and hotline.pinned and not hotline.pinned.is_removed else None
        spotlight = hotline.spotlight if hotline and hotline.spotlight and hotline.spotlight.is_open else None
        return {
            "type": "room.state",
            "seq": room.last_seq,
            "room": {
                **room_data(room),
                "host": user_data(room.host),
                "qa_enabled": hotline.qa_enabled if hotline else True,
                "pinned": comment_data(pinned) if pinned else None,
                "slow_mode": hotline.slow_mode if hotline else 0,
                "moderators": moderators_data(room),
            },
            "seats": [seat_data(seat) for seat in seats],
            "viewers": viewers,
            "you": you,
            "comments": [comment_data(c) for c in reversed(recent)],
            "reactions": reaction_totals(room_id=room.pk),
            "questions": [question_data(q) for q in queue],
            "spotlight": question_data(spotlight) if spotlight else None,
            **({"held": held} if held is not None else {}),
        }
