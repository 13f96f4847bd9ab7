"""Every change to comments goes through these functions: sockets, the admin and tasks alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from comments.frames import comment_data
from comments.models import COMMENT_MAX, Ban, BlockedWord, Comment
from liverooms.errors import ActionError, rate_limited
from liverooms.ratelimit import token_wait
from rooms.events import append_event
from rooms.models import Room


def is_banned(*, user: User, room: Room) -> bool:
    """Whether `user` is banned from commenting in `room` (or everywhere)."""
    return Ban.objects.filter(Q(room=room) | Q(room__isnull=True), user=user).exists()


def blocked_word_in(*, text: str, room: Room) -> str | None:
    """The first of the room's (or the site's) blocked words that `text` contains, if any."""
    words = BlockedWord.objects.filter(Q(room=room) | Q(room__isnull=True)).values_list("word", flat=True)
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags=re.IGNORECASE):
            return word
    return None


def is_exempt_from_rate_limit(*, user: User, room: Room) -> bool:
    return user.pk == room.host_id or user.has_perm("comments.moderate_comment")


def comment_token_wait(*, user: User, room: Room) -> float:
    """Take a comment token: 0.0, or the seconds until the user may comment again."""
    return token_wait(
        f"comment:{room.pk}:{user.pk}",
        capacity=settings.COMMENT_BURST,
        per_second=settings.COMMENT_RATE_PER_MINUTE / 60,
    )


def clean_comment_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ActionError("bad_request", "A comment cannot be empty.")
    if len(text) > COMMENT_MAX:
        raise ActionError("too_long", f"A comment is at most {COMMENT_MAX} characters.")
    return text


def post_comment(*, room: Room, author: User | AnonymousUser, text: str) -> Comment:
    """Save a comment and publish `comment.created`; raises ActionError when it is refused."""
    if isinstance(author, AnonymousUser) or not author.is_authenticated:
        raise ActionError("unauthenticated", "Log in to comment.")
    text = clean_comment_text(text)
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if not locked.is_live:
            raise ActionError("room_ended", "This live has ended.")
        if not locked.comments_enabled:
            raise ActionError("comments_off", "Comments are turned off in this live.")
        if is_banned(user=author, room=locked):
            raise ActionError("banned", "You are not allowed to comment.")
        if blocked_word_in(text=text, room=locked):
            raise ActionError("forbidden", "Your comment contains a word that is not allowed here.")
        if not is_exempt_from_rate_limit(user=author, room=locked):
            wait = comment_token_wait(user=author, room=locked)
            if wait:
                raise rate_limited("You are commenting too fast; wait a moment.", wait=wait)
        comment = Comment.objects.create(room=locked, author=author, text=text)
        append_event(locked, "comment.created", {"comment": comment_data(comment)})
    return comment


def remove_comment(*, comment: Comment, by: User | None) -> bool:
    """Soft-remove a comment and publish `comment.removed`. False if it was already removed."""
    with transaction.atomic():
        locked = Comment.objects.select_for_update().select_related("room").get(pk=comment.pk)
        if locked.is_removed:
            return False
        locked.removed_at = timezone.now()
        locked.removed_by = by
        locked.save(update_fields=["removed_at", "removed_by"])
        append_event(locked.room, "comment.removed", {"comment_id": locked.pk})
    comment.removed_at, comment.removed_by = locked.removed_at, locked.removed_by
    return True


def restore_comment(*, comment: Comment) -> bool:
    """Bring a removed comment back and publish it again as `comment.created`."""
    with transaction.atomic():
        locked = Comment.objects.select_for_update().select_related("room", "author").get(pk=comment.pk)
        if not locked.is_removed:
            return False
        locked.removed_at = None
        locked.removed_by = None
        locked.save(update_fields=["removed_at", "removed_by"])
        append_event(locked.room, "comment.created", {"comment": comment_data(locked)})
    comment.removed_at, comment.removed_by = None, None
    return True


def remove_comments(*, comments: Iterable[Comment], by: User | None) -> int:
    """Remove each comment (one event each); returns how many were newly removed."""
    return sum(remove_comment(comment=comment, by=by) for comment in comments)


def ban_user(*, user: User, room: Room | None, by: User | None, reason: str = "") -> Ban:
    """Ban `user` from commenting in `room` (everywhere if None); the existing ban if there is one.
    Removing their comments too is bulk work: see `comments.bulk.open_ban_job`."""
    ban, _ = Ban.objects.get_or_create(user=user, room=room, defaults={"created_by": by, "reason": reason})
    return ban


def restore_comments(*, comments: Iterable[Comment]) -> int:
    return sum(restore_comment(comment=comment) for comment in comments)
