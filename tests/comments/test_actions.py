import pytest
from django.contrib.auth.models import AnonymousUser

from comments import actions
from comments.models import Ban, Comment
from liverooms.errors import ActionError
from rooms.actions import end_room
from rooms.events import events_after
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_it_saves_a_trimmed_comment_and_publishes_it(room: Room, carol) -> None:
    comment = actions.post_comment(room=room, author=carol, text="  hello  ")
    assert comment.text == "hello"
    (frame,) = events_after(room.pk, 0)
    assert frame["type"] == "comment.created"
    assert frame["comment"]["id"] == comment.pk
    assert frame["comment"]["text"] == "hello"
    assert frame["comment"]["user"] == {"id": carol.pk, "username": "carol"}


@pytest.mark.parametrize(("text", "code"), [(" \n ", "bad_request"), ("é" * 501, "too_long")])
def test_it_refuses_bad_text(room: Room, carol, text: str, code: str) -> None:
    with pytest.raises(ActionError) as refused:
        actions.post_comment(room=room, author=carol, text=text)
    assert refused.value.code == code
    assert not Comment.objects.exists()
    assert events_after(room.pk, 0) == []


def test_it_accepts_exactly_500_characters(room: Room, carol) -> None:
    assert len(actions.post_comment(room=room, author=carol, text="é" * 500).text) == 500


def test_it_refuses_anonymous_comments(room: Room) -> None:
    with pytest.raises(ActionError) as refused:
        actions.post_comment(room=room, author=AnonymousUser(), text="hi")
    assert refused.value.code == "unauthenticated"


def test_it_refuses_comments_when_they_are_off(room: Room, carol) -> None:
    Room.objects.filter(pk=room.pk).update(comments_enabled=False)
    with pytest.raises(ActionError) as refused:
        actions.post_comment(room=room, author=carol, text="hi")
    assert refused.value.code == "comments_off"


def test_it_refuses_comments_after_the_end(room: Room, carol) -> None:
    end_room(room=room)
    with pytest.raises(ActionError) as refused:
        actions.post_comment(room=room, author=carol, text="hi")
    assert refused.value.code == "room_ended"


@pytest.mark.parametrize("everywhere", [True, False])
def test_it_refuses_a_banned_author(room: Room, carol, mod, everywhere: bool) -> None:
    Ban.objects.create(user=carol, room=None if everywhere else room, created_by=mod)
    with pytest.raises(ActionError) as refused:
        actions.post_comment(room=room, author=carol, text="hi")
    assert refused.value.code == "banned"


def test_a_ban_in_another_room_does_not_count(room: Room, bob, carol, mod) -> None:
    from rooms.actions import create_room

    Ban.objects.create(user=carol, room=create_room(host=bob, title="other"), created_by=mod)
    assert actions.post_comment(room=room, author=carol, text="hi").pk


def test_it_removes_softly_once_and_restores(room: Room, carol, mod) -> None:
    comment = actions.post_comment(room=room, author=carol, text="hi")
    assert actions.remove_comment(comment=comment, by=mod) is True
    assert actions.remove_comment(comment=comment, by=mod) is False
    comment.refresh_from_db()
    assert comment.removed_at is not None
    assert comment.removed_by == mod
    assert actions.restore_comment(comment=comment) is True
    assert actions.restore_comment(comment=comment) is False
    comment.refresh_from_db()
    assert comment.removed_at is None
    assert comment.removed_by is None
    frames = events_after(room.pk, 0)
    assert [(f["seq"], f["type"]) for f in frames] == [
        (1, "comment.created"),
        (2, "comment.removed"),
        (3, "comment.created"),
    ]
    assert frames[1]["comment_id"] == comment.pk
    assert frames[2]["comment"]["id"] == comment.pk
