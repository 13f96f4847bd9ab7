"""The replay's comment track and spotlight, built from what the live stored."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from comments import actions as comment_actions
from comments import questions, review
from comments.models import BlockedWord, Comment
from comments.replay import comment_track
from rooms import actions
from rooms.models import Room
from rooms.replay import spotlight_track

pytestmark = pytest.mark.django_db


def test_it_holds_the_visible_comments_at_the_second_each_was_posted(room: Room, alice, carol, bob) -> None:
    started = timezone.now() - timedelta(seconds=10)
    first = comment_actions.post_comment(room=room, author=carol, text="hello <b>all</b>")
    Comment.objects.filter(pk=first.pk).update(created_at=started + timedelta(seconds=3.25))
    gone = comment_actions.post_comment(room=room, author=bob, text="rude words")
    kept = comment_actions.post_comment(room=room, author=bob, text="nice")
    Comment.objects.filter(pk=kept.pk).update(created_at=started + timedelta(seconds=7))
    comment_actions.remove_comment(comment=gone, by=alice)
    BlockedWord.objects.create(room=room, word="spoiler", action=BlockedWord.Action.HOLD)
    held = comment_actions.post_comment(room=room, author=carol, text="spoiler held")
    rejected = comment_actions.post_comment(room=room, author=bob, text="spoiler rejected")
    review.reject(room=room, user=alice, comment_id=rejected.pk)

    track = comment_track(room=room, started=started)

    assert [(c["id"], c["at"], c["user"]["username"], c["text"]) for c in track] == [
        (first.pk, 3.25, "carol", "hello <b>all</b>"),
        (kept.pk, 7.0, "bob", "nice"),
    ]
    text = json.dumps(track)
    assert "rude" not in text
    assert "spoiler" not in text
    assert held.pk not in {c["id"] for c in track}


def test_a_comment_removed_after_the_live_leaves_the_track_and_a_restored_one_comes_back(
    room: Room, alice, carol, mod
) -> None:
    started = timezone.now()
    comment = comment_actions.post_comment(room=room, author=carol, text="later removed")
    actions.end_room(room=room)
    comment_actions.remove_comment(comment=comment, by=mod)
    assert comment_track(room=room, started=started) == []
    comment_actions.restore_comment(comment=comment)
    assert [c["text"] for c in comment_track(room=room, started=started)] == ["later removed"]


def test_it_says_which_question_was_in_the_spotlight_when_and_a_dismissed_one_shows_nothing(
    room: Room, alice, carol, bob, mod
) -> None:
    started = timezone.now() - timedelta(seconds=1)
    questions.set_qa_enabled(room=room, user=alice, enabled=True)
    kept = questions.ask(room=room, user=carol, text="What camera do you use?")
    dismissed = questions.ask(room=room, user=bob, text="A question to dismiss")
    questions.spotlight(room=room, user=alice, question_id=kept.pk)
    questions.answer(room=room, user=alice, question_id=kept.pk)
    questions.spotlight(room=room, user=alice, question_id=dismissed.pk)
    questions.dismiss(room=room, user=mod, question_id=dismissed.pk)

    track = spotlight_track(room=room, started=started)

    shown = [entry["question"] for entry in track]
    assert shown[0] == {"id": kept.pk, "user": {"id": carol.pk, "username": "carol"}, "text": "What camera do you use?"}
    assert shown[1:] == [None, None]  # answered; then the dismissed one's spotlight, redacted: nothing
    assert all(a["at"] <= b["at"] for a, b in pairwise(track))
    assert "dismiss" not in json.dumps(track)
