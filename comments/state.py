"""The comment app's part of `room.state` (rooms.snapshot.register_state, from CommentsConfig.ready):
recent comments, reaction totals, the Hotline's questions, spotlight and pinned comment, slow mode,
the room's moderators, and for reviewers the comments held for review."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from comments.actions import active_ban
from comments.frames import comment_data, question_data
from comments.models import VISIBLE, Comment, Hotline, QuestionVote
from comments.moderators import is_moderator, moderators_data
from comments.questions import open_questions
from comments.reactions import reaction_totals
from comments.review import HELD_SHOWN, held_in
from rooms.models import Room
from rooms.snapshot import AnyUser

RECENT_COMMENTS = 50


def add_to_state(room: Room, user: AnyUser, state: dict[str, Any]) -> None:
    you = state["you"]
    recent = list(
        Comment.objects.filter(VISIBLE, room=room)
        .select_related("author")
        .order_by("-created_at", "-id")[:RECENT_COMMENTS]
    )
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
    state["room"].update(
        {
            "qa_enabled": hotline.qa_enabled if hotline else True,
            "pinned": comment_data(pinned) if pinned else None,
            "slow_mode": hotline.slow_mode if hotline else 0,
            "moderators": moderators_data(room),
        }
    )
    state["comments"] = [comment_data(c) for c in reversed(recent)]
    state["reactions"] = reaction_totals(room_id=room.pk)
    state["questions"] = [question_data(q) for q in queue]
    state["spotlight"] = question_data(spotlight) if spotlight else None
    if held is not None:
        state["held"] = held
