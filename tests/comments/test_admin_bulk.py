"""Bulk moderation in the admin: the ban is at once, the removal a job, the count shown when done."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from comments.bulk import run_job
from comments.models import Ban, Comment, ModerationJob
from conftest import PASSWORD
from rooms.actions import create_room
from rooms.events import events_after
from rooms.models import Room

COMMENTS = reverse("admin:comments_comment_changelist")
USERS = reverse("admin:auth_user_changelist")
JOBS = reverse("admin:comments_moderationjob_changelist")


def write_comments(room: Room, author: User, count: int) -> list[Comment]:
    return Comment.objects.bulk_create(Comment(room=room, author=author, text=f"spam {n}") for n in range(count))


def log_in(client: Client, username: str) -> Client:
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def as_mod(client: Client, mod: User) -> Client:
    return log_in(client, "mod")


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_count_shows_right_after_the_action(
    as_mod: Client, room: Room, carol: User, tasks_run_here
) -> None:
    spam = write_comments(room, carol, 3)
    page = as_mod.post(COMMENTS, {"action": "ban_in_room_and_remove", "_selected_action": [spam[0].pk]}, follow=True)
    html = page.content.decode()
    assert "Banned carol from Alice live; removed 3 comments." in html
    assert "in the background" not in html
    assert "Banned carol from Alice live" not in as_mod.get(COMMENTS).content.decode()  # told once
    assert [f["comment_id"] for f in events_after(room.pk, 0)] == [c.pk for c in spam]


@pytest.mark.django_db
def test_it_opens_one_job_per_author_and_scope_and_bans_at_once(
    as_mod: Client, room: Room, bob: User, carol: User, mod: User
) -> None:
    selected = [*write_comments(room, carol, 2), *write_comments(room, bob, 1)]
    as_mod.post(COMMENTS, {"action": "ban_in_room_and_remove", "_selected_action": [c.pk for c in selected]})
    jobs = ModerationJob.objects.order_by("target__username")
    assert [(j.target, j.room, j.moderator, j.status) for j in jobs] == [
        (bob, room, mod, "queued"),
        (carol, room, mod, "queued"),
    ]
    assert set(Ban.objects.values_list("user__username", "room")) == {("bob", room.pk), ("carol", room.pk)}
    as_mod.post(COMMENTS, {"action": "ban_in_room_and_remove", "_selected_action": [selected[0].pk]})
    assert ModerationJob.objects.count() == 2  # carol's job is still open: queued again, not doubled


@pytest.mark.django_db
def test_a_finished_job_is_told_on_the_next_page_once_and_only_to_its_moderator(
    as_mod: Client, room: Room, bob: User, carol: User, mod: User
) -> None:
    write_comments(room, carol, 1)
    job = ModerationJob.objects.create(target=carol, room=None, moderator=bob)
    run_job(job_id=job.pk)
    mine = ModerationJob.objects.create(target=carol, room=room, moderator=mod)
    assert "Banned carol" not in as_mod.get(JOBS).content.decode()  # not finished yet; bob's is not mine
    run_job(job_id=mine.pk)
    assert "Banned carol from Alice live; removed 0 comments." in as_mod.get(JOBS).content.decode()
    assert "Banned carol" not in as_mod.get(COMMENTS).content.decode()


@pytest.mark.django_db
def test_the_job_list_shows_status_and_progress(as_mod: Client, room: Room, carol: User, mod: User) -> None:
    write_comments(room, carol, 5)
    job = ModerationJob.objects.create(target=carol, room=room, moderator=mod)
    html = as_mod.get(JOBS).content.decode()
    assert '<td class="field-status">queued</td>' in html
    assert '<td class="field-left">5</td>' in html
    assert '<td class="field-where">Alice live</td>' in html
    run_job(job_id=job.pk, batch_size=2)
    html = as_mod.get(JOBS).content.decode()
    assert '<td class="field-status">done</td>' in html
    assert '<td class="field-removed_count">5</td>' in html
    assert '<td class="field-left">0</td>' in html
    assert as_mod.get(reverse("admin:comments_moderationjob_change", args=[job.pk])).status_code == 200
    assert as_mod.get(reverse("admin:comments_moderationjob_add")).status_code == 403


@pytest.mark.django_db
def test_only_moderators_may_ban_and_remove(client: Client, room: Room, bob: User, carol: User) -> None:
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    bob.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_comment", "view_user", "view_moderationjob"])
    )
    (comment,) = write_comments(room, carol, 1)
    log_in(client, "bob")
    listing = client.get(COMMENTS).content.decode()
    assert "ban_in_room_and_remove" not in listing
    assert "ban_everywhere_and_remove" not in client.get(USERS).content.decode()
    for action in ("ban_in_room_and_remove", "ban_everywhere_and_remove"):
        client.post(COMMENTS, {"action": action, "_selected_action": [comment.pk]})
    client.post(USERS, {"action": "ban_everywhere_and_remove", "_selected_action": [carol.pk]})
    assert not Ban.objects.exists()
    assert not ModerationJob.objects.exists()
    comment.refresh_from_db()
    assert comment.removed_at is None


@pytest.mark.django_db
def test_an_admin_bans_everywhere_from_the_user_list(
    client: Client, room: Room, bob: User, carol: User, tasks_run_here, django_capture_on_commit_callbacks
) -> None:
    # Moderators cannot open the user list (it shows e-mails): they ban from a comment or a Ban.
    root = User.objects.create_superuser("root", password=PASSWORD)
    log_in(client, "root")
    elsewhere = create_room(host=bob, title="Bob live")
    here, there = write_comments(room, carol, 2), write_comments(elsewhere, carol, 1)
    listing = client.get(USERS).content.decode()
    assert "ban_everywhere_and_remove" in listing
    assert "ban_in_room_and_remove" not in listing  # one room: from a comment in it (the comment admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(USERS, {"action": "ban_everywhere_and_remove", "_selected_action": [carol.pk]})
    assert Ban.objects.filter(user=carol, room=None, created_by=root).exists()
    assert "Banned carol everywhere; removed 3 comments." in client.get(USERS).content.decode()
    assert [f["comment_id"] for f in events_after(room.pk, 0)] == [c.pk for c in here]
    assert [f["comment_id"] for f in events_after(elsewhere.pk, 0)] == [c.pk for c in there]


@pytest.mark.django_db
def test_a_moderator_runs_a_stuck_job_again_from_the_job_list(
    as_mod: Client, room: Room, carol: User, mod: User, tasks_run_here, django_capture_on_commit_callbacks
) -> None:
    spam = write_comments(room, carol, 3)
    stuck = ModerationJob.objects.create(target=carol, room=room, moderator=mod, status="running")
    done = ModerationJob.objects.create(target=carol, room=None, moderator=mod)
    run_job(job_id=done.pk)
    assert ModerationJob.objects.get(pk=stuck.pk).status == "running"
    with django_capture_on_commit_callbacks(execute=True):
        page = as_mod.post(JOBS, {"action": "run_again", "_selected_action": [stuck.pk, done.pk]}, follow=True)
    assert "Queued 1 job(s) again." in page.content.decode()
    stuck.refresh_from_db()
    assert (stuck.status, stuck.removed_count) == ("done", 0)  # the everywhere job had removed them all
    assert [f["comment_id"] for f in events_after(room.pk, 0)] == [c.pk for c in spam]


@pytest.mark.django_db
def test_a_second_moderator_is_pointed_to_the_job_already_open(
    client: Client, room: Room, bob: User, carol: User, mod: User
) -> None:
    from comments.moderation import moderators_group

    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    bob.groups.add(moderators_group())
    (comment,) = write_comments(room, carol, 1)
    job = ModerationJob.objects.create(target=carol, room=room, moderator=mod)
    log_in(client, "bob")
    page = client.post(COMMENTS, {"action": "ban_in_room_and_remove", "_selected_action": [comment.pk]}, follow=True)
    assert f"(job {job.pk}, opened by mod)" in page.content.decode()
    assert ModerationJob.objects.get() == job
    assert Ban.objects.filter(user=carol, room=room, created_by=bob).exists()


@pytest.mark.django_db
def test_moderators_view_jobs_but_not_users_and_change_neither(mod: User) -> None:
    perms = mod.get_all_permissions()
    assert "comments.view_moderationjob" in perms
    assert not {"auth.view_user", "auth.change_user", "auth.delete_user", "comments.change_moderationjob"} & perms
