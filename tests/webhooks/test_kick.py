"""A burst of events queues one delivery task per endpoint and room, not one per event (#12).

The tasks go to the real broker (Redis, or kombu's filesystem queue without it), are counted and
taken off it here, then run in this process as a worker would run them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from comments.actions import post_comment
from comments.models import Comment
from conftest import make_user
from liverooms.celery import app
from liverooms.webhooks import tasks
from liverooms.webhooks.models import Delivery, Endpoint
from rooms.events import append_events
from rooms.models import Room
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.django_db

Queued = list[tuple[str, list[Any]]]


@contextmanager
def broker() -> Iterator[Callable[[], Queued]]:
    """Inside, tasks are sent to the broker instead of run in place; yields a function that
    takes the webhook queue's messages off it: (task name, args) each."""
    eager = app.conf.task_always_eager
    for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(option)  # the filesystem broker's
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    with app.connection_for_write() as connection:
        queue = app.amqp.queues["webhooks"](connection.default_channel)
        queue.declare()
        queue.purge()

        def take() -> Queued:
            found: Queued = []
            while (message := queue.get(no_ack=True)) is not None:
                args, _kwargs, _embed = message.decode()
                found.append((message.headers["task"], args))
            return found

        app.conf.task_always_eager = False
        try:
            yield take
        finally:
            app.conf.task_always_eager = eager
            queue.purge()


def viewers(count: int) -> list[User]:
    """Many people commenting at once (one person is rate-limited long before a burst)."""
    return [make_user(f"viewer{n}") for n in range(count)]


def run(queued: Queued) -> None:
    """Run queued tasks here, as a worker would."""
    for name, args in queued:
        assert name == "webhooks.deliver"
        tasks.deliver(*args)


def test_a_burst_of_events_queues_one_task_and_all_arrive_in_order(
    room: Room, carol: User, django_capture_on_commit_callbacks
) -> None:
    with receiver() as rx, broker() as take:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        texts = [f"comment {n}" for n in range(20)]
        for viewer, text in zip(viewers(20), texts, strict=True):  # 20 transactions, each kicks after commit
            with django_capture_on_commit_callbacks(execute=True):
                post_comment(room=room, author=viewer, text=text)
        queued = take()
        assert queued == [("webhooks.deliver", [hook.pk, room.pk])]  # not 20

        run(queued)
        assert take() == []
        assert [r.json["data"]["comment"]["text"] for r in rx.accepted] == texts

        # The task cleared the marker before draining: the next event queues a task again.
        with django_capture_on_commit_callbacks(execute=True):
            post_comment(room=room, author=carol, text="later")
        later = take()
        assert later == [("webhooks.deliver", [hook.pk, room.pk])]
        run(later)
    assert [r.json["data"]["comment"]["text"] for r in rx.accepted] == [*texts, "later"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_each_endpoint_and_room_gets_its_own_task(
    room: Room, alice: User, bob: User, carol: User, django_capture_on_commit_callbacks
) -> None:
    from rooms.actions import create_room

    with receiver() as one, receiver() as two, broker() as take:
        first = Endpoint.objects.create(url=one.url, event_types=["comment.created"])
        second = Endpoint.objects.create(url=two.url, event_types=["comment.created"])
        other = create_room(host=bob, title="Bob live")
        for n, viewer in enumerate(viewers(5)):
            for where in (room, other):
                with django_capture_on_commit_callbacks(execute=True):
                    post_comment(room=where, author=viewer, text=f"{where.slug} {n}")
        queued = take()
        assert sorted(args for _name, args in queued) == sorted(
            [[hook.pk, key] for hook in (first, second) for key in (room.pk, other.pk)]
        )
        run(queued)
    assert len(one.accepted) == len(two.accepted) == 10


def test_a_chain_longer_than_one_run_queues_its_rest(
    room: Room, carol: User, django_capture_on_commit_callbacks
) -> None:
    comments = Comment.objects.bulk_create(Comment(room=room, author=carol, text=f"spam {n}") for n in range(130))
    with receiver() as rx, broker() as take:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.removed"])
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            append_events(room, [("comment.removed", {"comment_id": c.pk}) for c in comments])
        first = take()
        assert first == [("webhooks.deliver", [hook.pk, room.pk])]
        run(first)
        assert len(rx.accepted) == 100  # one run's limit…
        rest = take()
        assert rest == [("webhooks.deliver", [hook.pk, room.pk])]  # …and the rest queued behind it
        run(rest)
    assert [r.json["data"]["comment_id"] for r in rx.accepted] == [c.pk for c in comments]


def test_a_marker_left_by_a_lost_task_does_not_stop_the_sweep(room: Room, carol: User) -> None:
    with receiver() as rx, broker() as take:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        assert tasks.queue_delivery(hook.pk, room.pk) is True
        take()  # the task is lost
        post_comment(room=room, author=carol, text="hi")
        assert tasks.queue_delivery(hook.pk, room.pk) is False  # its marker still stands
        assert take() == []
        assert tasks.deliver_due() == 1  # the sweep ignores markers
        run(take())
    assert len(rx.accepted) == 1
