"""Staff who may view comments but not moderate never see what a removed comment said, or who said it."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment, remove_comment
from comments.models import Comment
from conftest import PASSWORD, make_user
from rooms.models import Room

pytestmark = pytest.mark.django_db

COMMENTS = reverse("admin:comments_comment_changelist")


@pytest.fixture
def dave(db: None) -> User:
    """Staff who may view comments (support, say), not a moderator."""
    user = make_user("dave")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="view_comment"))
    return user


@pytest.fixture
def removed(room: Room, carol: User, mod: User) -> Comment:
    comment = post_comment(room=room, author=carol, text="my secret words")
    remove_comment(comment=comment, by=mod)
    return comment


def as_user(client: Client, username: str) -> Client:
    assert client.login(username=username, password=PASSWORD)
    return client


def pages(client: Client, comment: Comment) -> dict[str, str]:
    urls = {
        "list": COMMENTS,
        "removed list": f"{COMMENTS}?state=removed",
        "change": reverse("admin:comments_comment_change", args=[comment.pk]),
        "history": reverse("admin:comments_comment_history", args=[comment.pk]),
    }
    found = {}
    for name, url in urls.items():
        page = client.get(url)
        assert page.status_code == 200, name
        found[name] = page.content.decode()
    return found


def test_a_removed_comment_shows_as_removed_to_staff_who_do_not_moderate(
    client: Client, dave: User, removed: Comment, room: Room, bob: User
) -> None:
    post_comment(room=room, author=bob, text="still here")
    for name, html in pages(as_user(client, "dave"), removed).items():
        assert "my secret words" not in html, name
        assert "carol" not in html, name
        assert "(removed)" in html, name
    listing = client.get(COMMENTS).content.decode()
    assert "still here" in listing  # a visible comment is shown as it is
    assert "bob" in listing
    assert "removed by mod" in listing


def test_a_search_does_not_tell_what_a_removed_comment_said(client: Client, dave: User, removed: Comment) -> None:
    as_user(client, "dave")
    for term in ("secret", "carol"):
        page = client.get(COMMENTS, {"q": term}).content.decode()
        assert "0 comments" in page, term


def test_a_moderator_still_sees_a_removed_comment(client: Client, mod: User, removed: Comment) -> None:
    for name, html in pages(as_user(client, "mod"), removed).items():
        if name != "history":
            assert "my secret words" in html, name
            assert "carol" in html, name
    assert "my secret words" in client.get(COMMENTS, {"q": "secret"}).content.decode()


def test_staff_who_do_not_moderate_cannot_remove(client: Client, dave: User, room: Room, carol: User) -> None:
    dave.user_permissions.add(Permission.objects.get(codename="delete_comment"))
    comment = post_comment(room=room, author=carol, text="stays")
    as_user(client, "dave")
    delete = reverse("admin:comments_comment_delete", args=[comment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    comment.refresh_from_db()
    assert comment.removed_at is None
