"""Hotline (live Q&A): viewers ask and vote, the host spotlights a question on every screen and
answers it; the host or a moderator dismisses one. Every change goes through these functions
(sockets, the admin), and publishes on the room's ordered stream like comments do.

Votes are coalesced: a vote is written at once (one row per user and question, the question's
`votes` kept in step), and the room's hub publishes `question.updated` with the current total of
each question voted on, at most every 200 ms (`flush_votes`, called from the hub's tick).
"""

from __future__ import annotations

import threading
from functools import partial

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from comments.actions import blocked_word_in, comment_token_wait, is_banned
from comments.frames import question_data, redacted_question
from comments.models import QUESTION_MAX, Hotline, Question, QuestionVote
from comments.moderators import can_moderate
from comments.text import normalise
from liverooms import process
from liverooms.errors import ActionError, rate_limited
from rooms.access import locked_live_room, require_host, require_user
from rooms.catalogue import QUESTION_CLOSED, QUESTION_CREATED, QUESTION_SPOTLIGHTED, QUESTION_UPDATED, ROOM_UPDATED
from rooms.events import append_event, append_events, redact
from rooms.models import Room

AnyUser = User | AnonymousUser
OPEN_SHOWN = 50  # open questions in `room.state`, most votes first


def subject_of(question_id: int) -> str:
    """The stream subject of a question's events (rooms.events.register_subject)."""
    return f"question:{question_id}"


def hotline_of(room: Room) -> Hotline:
    hotline, _created = Hotline.objects.get_or_create(room=room)
    return hotline


def _open_question(room: Room, question_id: int) -> Question:
    question = Question.objects.select_related("author").filter(room=room, pk=question_id).first()
    if question is None:
        raise ActionError("not_found", _("There is no such question."))
    if not question.is_open:
        raise ActionError("bad_request", _("That question is closed."))
    return question


def set_qa_enabled(*, room: Room, user: AnyUser, enabled: bool) -> None:
    """The host opens or closes Q&A; publishes `room.updated` {room: {qa_enabled}}."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        hotline = hotline_of(locked)
        if hotline.qa_enabled != enabled:
            hotline.qa_enabled = enabled
            hotline.save(update_fields=["qa_enabled"])
            append_event(locked, ROOM_UPDATED, {"room": {"qa_enabled": enabled}})


def ask(*, room: Room, user: AnyUser, text: str) -> Question:
    """A viewer asks: one open question per viewer at a time (a queue a host can read, not a
    second comment box), checked like a comment (ban, blocked words, the comment rate limit)."""
    asker = require_user(user)
    text = normalise(text)
    if not text:
        raise ActionError("bad_request", _("A question cannot be empty."))
    if len(text) > QUESTION_MAX:
        raise ActionError("too_long", _("A question is at most %(max)d characters.") % {"max": QUESTION_MAX})
    if wait := comment_token_wait(user=asker, room=room):
        raise rate_limited(_("You are asking too fast; wait a moment."), wait=wait)
    with locked_live_room(room) as locked:
        if not hotline_of(locked).qa_enabled:
            raise ActionError("forbidden", _("Questions are turned off in this live."))
        if locked.seats.filter(user=asker).exists():
            raise ActionError("forbidden", _("You are on the stage: answer, don't ask."))
        if is_banned(user=asker, room=locked):
            raise ActionError("banned", _("You are not allowed to ask here."))
        if blocked_word_in(text=text, room=locked):
            raise ActionError("forbidden", _("Your question contains a word that is not allowed here."))
        if Question.objects.filter(room=locked, author=asker, status=Question.Status.OPEN).exists():
            raise ActionError("forbidden", _("You have a question waiting already; ask again once it is answered."))
        question = Question.objects.create(room=locked, author=asker, text=text)
        append_event(locked, QUESTION_CREATED, {"question": question_data(question)})
    return question


# room id -> ids of questions voted on since the hub last published their totals (per process)
_voted: dict[int, set[int]] = {}
_voted_lock = threading.Lock()
process.on_reset(_voted.clear)


def vote(*, room: Room, user: AnyUser, question_id: int, up: bool) -> int:
    """Vote for a question (`up`), or take the vote back. One vote per user; returns the total.
    The total reaches sockets with the next `question.updated` (coalesced, `flush_votes`)."""
    voter = require_user(user)
    with transaction.atomic():
        question = _open_question(room, question_id)
        if up:
            try:
                with transaction.atomic():
                    QuestionVote.objects.create(question=question, user=voter)
            except IntegrityError:
                return question.votes  # voted already
            Question.objects.filter(pk=question.pk).update(votes=F("votes") + 1)
        else:
            if not QuestionVote.objects.filter(question=question, user=voter).delete()[0]:
                return question.votes
            Question.objects.filter(pk=question.pk).update(votes=F("votes") - 1)
        transaction.on_commit(partial(_note_vote, room.pk, question.pk))
    return Question.objects.values_list("votes", flat=True).get(pk=question.pk)


def _note_vote(room_id: int, question_id: int) -> None:
    with _voted_lock:
        _voted.setdefault(room_id, set()).add(question_id)


def votes_pending(room_id: int) -> bool:
    """Whether votes wait to be published for the room (a dict look-up: every hub tick asks)."""
    return room_id in _voted


def flush_votes(room_id: int) -> int:
    """Publish `question.updated` {question_id, votes} for each open question voted on since the
    last flush (one event per question, however many votes); returns how many."""
    with _voted_lock:
        ids = _voted.pop(room_id, set())
    if not ids:
        return 0
    with transaction.atomic():
        room = Room.objects.get(pk=room_id)
        totals = Question.objects.filter(pk__in=ids, status=Question.Status.OPEN).order_by("pk")
        events = [(QUESTION_UPDATED, {"question_id": pk, "votes": n}) for pk, n in totals.values_list("pk", "votes")]
        append_events(room, events)
    return len(events)


def spotlight(*, room: Room, user: AnyUser, question_id: int | None) -> None:
    """The host shows one open question over the grid on every screen (None: clears it)."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        question = _open_question(locked, question_id) if question_id is not None else None
        hotline = hotline_of(locked)
        if hotline.spotlight_id == (question.pk if question else None):
            return
        hotline.spotlight = question
        hotline.save(update_fields=["spotlight"])
        append_event(locked, QUESTION_SPOTLIGHTED, {"question": question_data(question) if question else None})


def answer(*, room: Room, user: AnyUser, question_id: int) -> None:
    """The host marks a question answered: it leaves the queue (and the spotlight)."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        _close(locked, _open_question(locked, question_id), how=Question.Status.ANSWERED, by=host)


def dismiss(*, room: Room, user: AnyUser, question_id: int) -> None:
    """The host or a moderator dismisses a question: it leaves every screen and its text is
    redacted from the stream, like a removed comment's."""
    moderator = require_user(user)
    with locked_live_room(room) as locked:
        if not can_moderate(user=moderator, room=locked):
            raise ActionError("forbidden", _("Only the host or a moderator can dismiss a question."))
        _close(locked, _open_question(locked, question_id), how=Question.Status.DISMISSED, by=moderator)


def dismiss_question(*, question: Question, by: User | None) -> bool:
    """The admin's dismiss (the room may have ended): False if it was not open."""
    with transaction.atomic():
        locked = Question.objects.select_for_update().select_related("room").get(pk=question.pk)
        if not locked.is_open:
            return False
        _close(locked.room, locked, how=Question.Status.DISMISSED, by=by)
    return True


def restore_question(*, question: Question) -> bool:
    """The admin brings a dismissed question back to the queue (published again as
    `question.created`); False if it was not dismissed or its author has another open one."""
    with transaction.atomic():
        locked = Question.objects.select_for_update().select_related("room", "author").get(pk=question.pk)
        if locked.status != Question.Status.DISMISSED:
            return False
        if Question.objects.filter(room=locked.room, author=locked.author, status=Question.Status.OPEN).exists():
            return False
        locked.status, locked.closed_at, locked.closed_by = Question.Status.OPEN, None, None
        locked.save(update_fields=["status", "closed_at", "closed_by"])
        append_event(locked.room, QUESTION_CREATED, {"question": question_data(locked)})
    return True


def _close(room: Room, question: Question, *, how: Question.Status, by: User | None) -> None:
    question.status, question.closed_at, question.closed_by = how, timezone.now(), by
    question.save(update_fields=["status", "closed_at", "closed_by"])
    Hotline.objects.filter(room=room, spotlight=question).update(spotlight=None)
    append_event(room, QUESTION_CLOSED, {"question_id": question.pk, "how": str(how)})
    if how == Question.Status.DISMISSED:
        redact(room, {subject_of(question.pk): partial(redacted_question, question.pk)})


def open_questions(room: Room) -> list[Question]:
    """The queue: open questions, most votes first (then oldest first)."""
    queue = Question.objects.filter(room=room, status=Question.Status.OPEN).select_related("author")
    return list(queue.order_by("-votes", "created_at", "id")[:OPEN_SHOWN])
