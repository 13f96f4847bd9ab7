"""Held for review: a comment with a blocked word set to *hold* is stored but not published. Its
author and the room's moderators (the host, room moderators, site moderators) see it, as an
ephemeral `comment.held`; approving it publishes `comment.created` at that point of the stream,
rejecting it publishes nothing. Nobody else ever learns of a held or rejected comment."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from comments.frames import comment_data
from comments.models import Comment, RoomModerator
from liverooms.errors import ActionError
from rooms.access import require_user
from rooms.catalogue import COMMENT_APPROVED, COMMENT_CREATED, COMMENT_HELD, COMMENT_REJECTED
from rooms.events import append_event, notify, send_to_users
from rooms.frames import room_data
from rooms.models import Room

HELD_SHOWN = 50


def moderator_ids(room: Room) -> list[int]:
    """Who reviews the room's held comments: the host, its room moderators, site moderators."""
    perm = Permission.objects.filter(content_type__app_label="comments", codename="moderate_comment").first()
    site = User.objects.filter(
        Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True), is_active=True
    )
    named = RoomModerator.objects.filter(room=room).values_list("user_id", flat=True)
    return sorted({room.host_id, *named, *site.values_list("pk", flat=True)})


def hold(*, room: Room, comment: Comment) -> None:
    """In the post's transaction: tell the author and the reviewers (`comment.held`), and webhooks."""
    frame = {"type": COMMENT_HELD, "comment": comment_data(comment)}
    send_to_users(room, [comment.author_id, *moderator_ids(room)], frame)
    notify(COMMENT_HELD, room=room, data={"room": room_data(room), "comment": comment_data(comment)})


def held_in(room: Room) -> list[Comment]:
    """The room's comments waiting for review, oldest first."""
    waiting = Comment.objects.filter(room=room, review=Comment.Review.HELD, removed_at__isnull=True)
    return list(waiting.select_related("author").order_by("created_at", "id")[:HELD_SHOWN])


def _held(room: Room, comment_id: int) -> Comment:
    comment = Comment.objects.select_for_update().filter(room=room, pk=comment_id).first()
    if comment is None or comment.review != Comment.Review.HELD or comment.is_removed:
        raise ActionError("not_found", _("There is no such comment waiting for review."))
    return comment


def _require_reviewer(user: User | AnonymousUser, room: Room) -> User:
    from comments.moderators import can_moderate  # (moderators -> actions -> review)

    reviewer = require_user(user)
    if not can_moderate(user=reviewer, room=room):
        raise ActionError("forbidden", _("Only the host or a moderator can review comments."))
    return reviewer


def approve(*, room: Room, user: User | AnonymousUser, comment_id: int) -> Comment:
    """`held.approve`: the comment is published now (`comment.created` at this point of the stream)."""
    _require_reviewer(user, room)
    with transaction.atomic():
        locked_room = Room.objects.select_for_update().get(pk=room.pk)
        comment = _held(locked_room, comment_id)
        return approve_comment(comment=comment, room=locked_room)


def approve_comment(*, comment: Comment, room: Room) -> Comment:
    """In a transaction holding the room: publish a held comment (the room's and the admin's path)."""
    comment.review = Comment.Review.APPROVED
    comment.save(update_fields=["review"])
    data = comment_data(comment)
    append_event(room, COMMENT_CREATED, {"comment": data})
    notify(COMMENT_APPROVED, room=room, data={"room": room_data(room), "comment": data})
    return comment


def reject(*, room: Room, user: User | AnonymousUser, comment_id: int) -> None:
    """`held.reject`: the comment stays unpublished for good; its author and the reviewers get an
    ephemeral `comment.rejected` {comment_id} (their held lists drop it)."""
    _require_reviewer(user, room)
    with transaction.atomic():
        comment = _held(room, comment_id)
        reject_comment(comment=comment, room=room)


def reject_comment(*, comment: Comment, room: Room) -> None:
    comment.review = Comment.Review.REJECTED
    comment.save(update_fields=["review"])
    frame = {"type": COMMENT_REJECTED, "comment_id": comment.pk}
    send_to_users(room, [comment.author_id, *moderator_ids(room)], frame)


def review_selected(*, comments: list[Comment], approve_them: bool) -> int:
    """The admin's Approve / Reject on held comments; returns how many it changed."""
    done = 0
    for comment in comments:
        with transaction.atomic():
            room = Room.objects.select_for_update().get(pk=comment.room_id)
            try:
                locked = _held(room, comment.pk)
            except ActionError:
                continue
            if approve_them:
                approve_comment(comment=locked, room=room)
            else:
                reject_comment(comment=locked, room=room)
            done += 1
    return done
