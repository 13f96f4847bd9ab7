"""Every change to comments goes through these functions: sockets, the admin and tasks alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from comments import review as review_module
from comments.frames import comment_data, redacted_comment
from comments.models import COMMENT_MAX, Ban, BlockedWord, Comment, Hotline, RoomModerator
from comments.pins import unpin_any, unpin_author
from comments.text import folded, normalise
from liverooms.errors import ActionError, rate_limited
from liverooms.ratelimit import token_wait
from rooms.catalogue import COMMENT_CREATED, COMMENT_REMOVED
from rooms.events import append_event, redact
from rooms.models import Room

# A `comment.post` that repeats a `ref` the author used in the room this recently is a retry.
RETRY_WINDOW = timedelta(minutes=10)


def active_ban(*, user: User, room: Room) -> Ban | None:
    """The ban that keeps `user` from commenting in `room` now (a room's, or everywhere), if any:
    a timeout past its end no longer counts. The one that lasts longest when there are several."""
    bans = Ban.objects.filter(Q(room=room) | Q(room__isnull=True), user=user)
    live = bans.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
    return live.order_by(F("until").desc(nulls_first=True)).first()


def is_banned(*, user: User, room: Room) -> bool:
    """Whether `user` is banned from commenting in `room` (or everywhere) now."""
    return active_ban(user=user, room=room) is not None


def banned_error(ban: Ban) -> ActionError:
    """`banned`, with `until` for a timeout (docs/protocol.md)."""
    if ban.until is None:
        return ActionError("banned", _("You are not allowed to comment."))
    return ActionError("banned", _("You are timed out of this live's comments."), until=ban.until.isoformat())


def matching_word(*, text: str, room: Room) -> BlockedWord | None:
    """The blocked word of the room (or the site) that `text` contains, a *refuse* one before a
    *hold* one; compared in their normal, case-folded form (full-width and zero-width-split forms
    match)."""
    words = BlockedWord.objects.filter(Q(room=room) | Q(room__isnull=True)).order_by("-action", "word")
    text = folded(text)
    for word in words:  # "refuse" sorts after "hold": descending puts it first
        if re.search(rf"(?<!\w){re.escape(folded(word.word))}(?!\w)", text):
            return word
    return None


def blocked_word_in(*, text: str, room: Room) -> str | None:
    """The first of the room's (or the site's) blocked words that `text` contains, if any. Both
    are compared in their normal, case-folded form (full-width and zero-width-split forms match)."""
    words = BlockedWord.objects.filter(Q(room=room) | Q(room__isnull=True)).values_list("word", flat=True)
    text = folded(text)
    for word in words:
        if re.search(rf"(?<!\w){re.escape(folded(word))}(?!\w)", text):
            return word
    return None


def is_room_staff(*, user: User, room: Room) -> bool:
    """The host, or a site moderator: their comments have a larger bucket of their own."""
    return user.pk == room.host_id or user.has_perm("comments.moderate_comment")


def comment_token_wait(*, user: User, room: Room) -> float:
    """Take a comment token: 0.0, or the seconds until the user may comment again."""
    if is_room_staff(user=user, room=room):
        return token_wait(
            f"comment-staff:{room.pk}:{user.pk}",
            capacity=settings.COMMENT_HOST_BURST,
            per_second=settings.COMMENT_HOST_RATE_PER_MINUTE / 60,
        )
    return token_wait(
        f"comment:{room.pk}:{user.pk}",
        capacity=settings.COMMENT_BURST,
        per_second=settings.COMMENT_RATE_PER_MINUTE / 60,
    )


def clean_comment_text(text: str) -> str:
    """The comment as it is stored (comments.text.normalise); refuses empty and too long ones."""
    text = normalise(text)
    if not text:
        raise ActionError("bad_request", _("A comment cannot be empty."))
    if len(text) > COMMENT_MAX:
        raise ActionError("too_long", _("A comment is at most %(max)d characters.") % {"max": COMMENT_MAX})
    return text


def _posted_before(*, room: Room, author: User, ref: str | None) -> Comment | None:
    """The comment a retry of frame `ref` already posted, if any."""
    if not ref:
        return None
    since = timezone.now() - RETRY_WINDOW
    return Comment.objects.filter(room=room, author=author, client_ref=ref, created_at__gte=since).first()


def post_comment(*, room: Room, author: User | AnonymousUser, text: str, ref: str | None = None) -> Comment:
    """Save a comment and publish `comment.created`; raises ActionError when it is refused.
    A frame `ref` the author already used here within RETRY_WINDOW is a retry: it returns the
    comment posted then and stores nothing new."""
    if isinstance(author, AnonymousUser) or not author.is_authenticated:
        raise ActionError("unauthenticated", _("Log in to comment."))
    text = clean_comment_text(text)
    if (earlier := _posted_before(room=room, author=author, ref=ref)) is not None:
        return earlier
    # The token is taken before the room is locked: the rate limiter is a network call.
    if wait := comment_token_wait(user=author, room=room):
        raise rate_limited(_("You are commenting too fast; wait a moment."), wait=wait)
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if (earlier := _posted_before(room=locked, author=author, ref=ref)) is not None:
            return earlier  # the same retry, racing on another socket
        if not locked.is_live:
            raise ActionError("room_ended", _("This live has ended."))
        if not locked.comments_enabled:
            raise ActionError("comments_off", _("Comments are turned off in this live."))
        if (ban := active_ban(user=author, room=locked)) is not None:
            raise banned_error(ban)
        if wait := slow_mode_wait(user=author, room=locked):
            raise rate_limited(
                _("Slow mode: one comment every %(seconds)d s.") % {"seconds": hotline_slow_mode(locked)}, wait=wait
            )
        word = matching_word(text=text, room=locked)
        if word is not None and word.action == BlockedWord.Action.REFUSE:
            raise ActionError("forbidden", _("Your comment contains a word that is not allowed here."))
        held = word is not None  # a "hold" word: the host or a moderator decides
        review = Comment.Review.HELD if held else Comment.Review.NONE
        comment = Comment.objects.create(room=locked, author=author, text=text, client_ref=ref or "", review=review)
        if held:
            review_module.hold(room=locked, comment=comment)
        else:
            append_event(locked, COMMENT_CREATED, {"comment": comment_data(comment)})
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
        append_event(locked.room, COMMENT_REMOVED, {"comment_id": locked.pk})
        unpin_any(room=locked.room, comment_ids=[locked.pk])
        redact_comments(room=locked.room, comment_ids=[locked.pk])
    comment.removed_at, comment.removed_by = locked.removed_at, locked.removed_by
    return True


def hotline_slow_mode(room: Room) -> int:
    return Hotline.objects.filter(room=room).values_list("slow_mode", flat=True).first() or 0


def slow_mode_wait(*, user: User, room: Room) -> float:
    """Seconds until a viewer may comment again under the room's slow mode (0.0: now). The host
    and moderators are exempt."""
    slow = hotline_slow_mode(room)
    if not slow or user.pk == room.host_id or user.has_perm("comments.moderate_comment"):
        return 0.0
    if RoomModerator.objects.filter(room=room, user=user).exists():
        return 0.0
    since = timezone.now() - timedelta(seconds=slow)
    last = Comment.objects.filter(room=room, author=user, created_at__gt=since).order_by("-created_at").first()
    return (last.created_at - since).total_seconds() if last is not None else 0.0


def redact_comments(*, room: Room, comment_ids: Iterable[int]) -> int:
    """In the removal's transaction: the stored `comment.created` events of these comments (the
    room's stream, what resuming sockets replay, and recorded webhook payloads) keep only
    {id, removed: true}. A removed comment's text and author never leave the server again."""
    return redact(room, {subject_of(pk): partial(redacted_comment, pk) for pk in comment_ids})


def subject_of(comment_id: int) -> str:
    """The stream subject of a comment's events (rooms.events.register_subject)."""
    return f"comment:{comment_id}"


def restore_comment(*, comment: Comment) -> bool:
    """Bring a removed comment back and publish it again as `comment.created`."""
    with transaction.atomic():
        locked = Comment.objects.select_for_update().select_related("room", "author").get(pk=comment.pk)
        if not locked.is_removed:
            return False
        locked.removed_at = None
        locked.removed_by = None
        locked.save(update_fields=["removed_at", "removed_by"])
        append_event(locked.room, COMMENT_CREATED, {"comment": comment_data(locked)})
    comment.removed_at, comment.removed_by = None, None
    return True


def remove_comments(*, comments: Iterable[Comment], by: User | None) -> int:
    """Remove each comment (one event each); returns how many were newly removed."""
    return sum(remove_comment(comment=comment, by=by) for comment in comments)


def ban_user(*, user: User, room: Room | None, by: User | None, reason: str = "") -> Ban:
    """Ban `user` from commenting in `room` (everywhere if None); the existing ban if there is one.
    Removing their comments too is bulk work: see `comments.bulk.open_ban_job`."""
    with transaction.atomic():
        ban, _ = Ban.objects.get_or_create(user=user, room=room, defaults={"created_by": by, "reason": reason})
        unpin_author(user=user, room=room)
    return ban


def restore_comments(*, comments: Iterable[Comment]) -> int:
    return sum(restore_comment(comment=comment) for comment in comments)
