"""The question admin: a moderator dismisses and restores questions through the room's actions."""

from __future__ import annotations

import pytest
from django.test import Client

from comments.models import Question
from rooms.events import events_after
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_a_moderator_dismisses_and_restores_a_question(room: Room, carol, mod) -> None:
    from comments.questions import ask

    question = ask(room=room, user=carol, text="secret question?")
    client = Client()
    client.force_login(mod)
    page = client.get("/admin/comments/question/")
    assert page.status_code == 200
    assert "secret question?" in page.content.decode()

    client.post("/admin/comments/question/", {"action": "dismiss_selected", "_selected_action": [question.pk]})
    question.refresh_from_db()
    assert question.status == Question.Status.DISMISSED
    frames = events_after(room.pk, 0)
    assert [f["type"] for f in frames] == ["question.created", "question.closed"]
    assert frames[0]["question"] == {"id": question.pk, "removed": True}

    client.post("/admin/comments/question/", {"action": "restore_selected", "_selected_action": [question.pk]})
    question.refresh_from_db()
    assert question.is_open
    assert events_after(room.pk, 2)[0]["question"]["text"] == "secret question?"


def test_staff_without_moderation_see_no_dismissed_text(room: Room, alice, carol) -> None:
    from django.contrib.auth.models import Permission

    from comments.questions import ask, dismiss

    question = ask(room=room, user=carol, text="secret question?")
    dismiss(room=room, user=alice, question_id=question.pk)
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(Permission.objects.get(codename="view_question"))
    client = Client()
    client.force_login(alice)
    page = client.get("/admin/comments/question/").content.decode()
    assert "secret question?" not in page
    assert "(removed)" in page


def test_room_figures_count_questions_answers_and_votes(room: Room, alice, bob, carol, mod) -> None:
    from comments.questions import answer, ask, vote
    from rooms import stats

    first = ask(room=room, user=carol, text="one?")
    ask(room=room, user=bob, text="two?")
    for voter in (alice, mod, bob):
        vote(room=room, user=voter, question_id=first.pk, up=True)
    answer(room=room, user=alice, question_id=first.pk)

    figures = stats.refresh(room_id=room.pk)

    assert (figures.questions, figures.answered_questions, figures.question_votes) == (2, 1, 3)
