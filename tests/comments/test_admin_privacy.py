"""Moderators moderate without the user list (it shows every user's e-mail) (issue #11)."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment
from comments.models import Ban, Comment
from conftest import PASSWORD
from rooms.actions import create_room
from rooms.models import Room

pytestmark = pytest.mark.django_db

COMMENTS = reverse("admin:comments_comment_changelist")
ADD_BAN = reverse("admin:comments_ban_add")


@pytest.fixture
def as_mod(client: Client, mod: User) -> Client:
    assert client.login(username="mod", password=PASSWORD)
    return client


def test_it_keeps_a_moderator_out_of_the_user_list(as_mod: Client, mod: User, carol: User) -> None:
    carol.email = "carol@example.com"
    carol.save(update_fields=["email"])
    assert "auth.view_user" not in mod.get_all_permissions()
    assert as_mod.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert as_mod.get(reverse("admin:auth_user_change", args=[carol.pk])).status_code == 403
    assert as_mod.get(reverse("admin:autocomplete"), {"term": "car"}).status_code == 403
    assert "carol@example.com" not in as_mod.get(reverse("admin:index")).content.decode()


def test_the_migration_takes_the_user_list_from_an_existing_group(mod: User) -> None:
    group = Group.objects.get(name="Moderators")
    group.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="view_user"))
    migration = import_module("comments.migrations.0008_moderators_without_user_list")
    migration.revoke(apps, None)
    assert not group.permissions.filter(codename="view_user").exists()
    assert group.permissions.filter(codename="moderate_comment").exists()  # the rest stays
    migration.grant(apps, None)  # and back, for a migration reversed
    assert group.permissions.filter(codename="view_user").exists()


def test_a_moderator_still_bans_everywhere_from_the_comment_admin(
    as_mod: Client, room: Room, bob: User, carol: User, tasks_run_here, django_capture_on_commit_callbacks
) -> None:
    elsewhere = create_room(host=bob, title="Bob live")
    first = post_comment(room=room, author=carol, text="spam")
    post_comment(room=elsewhere, author=carol, text="more spam")
    with django_capture_on_commit_callbacks(execute=True):
        as_mod.post(COMMENTS, {"action": "ban_everywhere_and_remove", "_selected_action": [first.pk]})
    assert Ban.objects.filter(user=carol, room=None).exists()
    assert not Comment.objects.filter(author=carol, removed_at__isnull=True).exists()


def test_a_moderator_adds_a_ban_by_username(as_mod: Client, mod: User, carol: User) -> None:
    page = as_mod.get(ADD_BAN).content.decode()
    assert reverse("admin:auth_user_changelist") not in page  # no lookup into the user list
    answer = as_mod.post(ADD_BAN, {"user": "carol", "room": "", "reason": "spam"})
    assert answer.status_code == 302
    ban = Ban.objects.get()
    assert (ban.user, ban.room, ban.reason, ban.created_by) == (carol, None, "spam", mod)
    change = as_mod.get(reverse("admin:comments_ban_change", args=[ban.pk]))
    assert change.status_code == 200
    assert "carol" in change.content.decode()


def test_a_ban_for_a_username_nobody_has_is_refused(as_mod: Client, carol: User) -> None:
    page = as_mod.post(ADD_BAN, {"user": "nobody", "room": "", "reason": ""})
    assert page.status_code == 200
    assert "There is no user with that username." in page.content.decode()
    assert not Ban.objects.exists()


def test_a_moderator_bans_by_username_in_one_room(as_mod: Client, room: Room, carol: User) -> None:
    assert as_mod.post(ADD_BAN, {"user": "carol", "room": room.pk, "reason": ""}).status_code == 302
    assert Ban.objects.get().room == room
