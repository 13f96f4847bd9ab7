"""The replay's read API (media.replays), its HTTP views and the host's switches: who may watch,
download, delete; Range requests a <video> makes; the webhooks a delete sends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.utils import timezone

from conftest import PASSWORD
from liverooms.webhooks.models import Event
from media.models import Recording, Replay
from media.recording import actions, retention
from media.replays import live_started_at, replay_for, tracks
from rooms import actions as room_actions
from rooms.models import Room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):  # FileSystemStorage follows the setting
        yield tmp_path


def client_of(user: User | None) -> Client:
    client = Client()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


def recorded(room: Room, *, seat: int = 0, at: float = 0.0, length: float = 10.0, data: bytes = b"") -> Recording:
    replay, _ = Replay.objects.get_or_create(room=room)
    name = default_storage.save(f"replays/{room.slug}/seat{seat}.webm", ContentFile(data or bytes(range(256)) * 40))
    started = (room.started_at or timezone.now()) + timedelta(seconds=at)
    return Recording.objects.create(
        replay=replay,
        seat_index=seat,
        file=name,
        container="webm",
        video_codec="vp8",
        has_video=True,
        has_audio=True,
        started_at=started,
        ended_at=started + timedelta(seconds=length),
        duration=length,
        size=default_storage.size(name),
        video_off=[[2.0, 4.0]],
    )


def ended(room: Room) -> Room:
    room_actions.end_room(room=room)
    return room


def test_it_lists_tracks_in_seconds_from_the_first_recorded_frame(room: Room) -> None:
    recorded(room, seat=0, at=5.0, length=30.0)
    recorded(room, seat=2, at=12.5, length=4.0)
    replay = replay_for(room)
    assert replay is not None
    assert live_started_at(replay) == replay.recordings.order_by("started_at")[0].started_at
    listed = tracks(replay)
    assert [(t["seat"], t["start"], t["end"]) for t in listed] == [(0, 0.0, 30.0), (2, 7.5, 11.5)]
    assert listed[1]["video_off"] == [[9.5, 11.5]]  # shifted to the replay's time
    assert listed[0]["url"] == f"/rooms/{room.slug}/replay/tracks/{listed[0]['id']}.webm"
    assert listed[0]["mime"] == 'video/webm; codecs="vp8, opus"'


def test_a_room_with_nothing_recorded_has_no_replay(room: Room) -> None:
    assert replay_for(room) is None


def test_anyone_plays_a_ready_replay_with_ranges_and_only_the_host_downloads(room: Room, alice, carol) -> None:
    data = bytes(range(256)) * 40
    recording = recorded(room, data=data)
    ended(room)
    assert actions.mark_ready(room_id=room.pk)
    url = tracks(replay_for(room))[0]["url"]  # type: ignore[arg-type]
    whole = client_of(None).get(url)
    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == data  # type: ignore[attr-defined]
    part = client_of(carol).get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]  # type: ignore[attr-defined]
    tail = client_of(carol).get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == data[-10:]  # type: ignore[attr-defined]
    assert client_of(carol).get(url, HTTP_RANGE=f"bytes={len(data)}-").status_code == 416
    assert client_of(carol).get(url + "?download=1").status_code == 404
    download = client_of(alice).get(url + "?download=1")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert recording.pk


def test_a_private_replay_is_the_hosts_alone(room: Room, alice, carol) -> None:
    recorded(room)
    ended(room)
    actions.mark_ready(room_id=room.pk)
    assert client_of(carol).post(f"/rooms/{room.slug}/replay/private", {"private": "1"}).status_code == 403
    answer = client_of(alice).post(
        f"/rooms/{room.slug}/replay/private", {"private": True}, content_type="application/json"
    )
    assert answer.json() == {"private": True}
    url = tracks(replay_for(room))[0]["url"]  # type: ignore[arg-type]
    assert client_of(carol).get(url).status_code == 404
    assert client_of(None).get(url).status_code == 404
    assert client_of(alice).get(url).status_code == 200


def test_a_replay_is_not_served_before_the_live_ends(room: Room, carol) -> None:
    recorded(room)
    url = tracks(replay_for(room))[0]["url"]  # type: ignore[arg-type]
    assert client_of(carol).get(url).status_code == 404


def test_the_host_deletes_a_replay_at_once_and_webhooks_say_so(
    room: Room, alice, carol, django_capture_on_commit_callbacks
) -> None:
    from liverooms.webhooks.models import Endpoint

    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["recording.ready", "recording.deleted"])
    recording = recorded(room)
    ended(room)
    assert actions.mark_ready(room_id=room.pk)
    assert not actions.mark_ready(room_id=room.pk)  # once
    path = Path(default_storage.path(recording.file.name))
    assert path.exists()
    assert client_of(carol).post(f"/rooms/{room.slug}/replay/delete").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_of(alice).post(f"/rooms/{room.slug}/replay/delete")
    assert answer.status_code == 200
    assert not path.exists()
    assert tracks(replay_for(room)) == []  # type: ignore[arg-type]
    ready, deleted = Event.objects.filter(room=room).order_by("pk")
    assert (ready.type, deleted.type) == ("recording.ready", "recording.deleted")
    assert ready.data["replay"]["url"] == f"/rooms/{room.slug}/replay/"
    assert deleted.data["reason"] == "host"
    assert client_of(alice).post(f"/rooms/{room.slug}/replay/delete").status_code == 404


def test_retention_deletes_replays_older_than_replay_days(
    room: Room, alice, django_capture_on_commit_callbacks
) -> None:
    old = recorded(room)
    ended(room)
    fresh_room = room_actions.create_room(host=User.objects.create_user("dave"), title="Dave live")
    recorded(fresh_room)
    ended(fresh_room)
    Room.objects.filter(pk=room.pk).update(ended_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.prune() == 1
    assert not Path(default_storage.path(old.file.name)).exists()
    assert Replay.objects.get(room=room).deleted_at is not None
    assert Replay.objects.get(room=fresh_room).deleted_at is None
    assert Recording.objects.filter(replay__room=room).count() == 1  # the row stays, as the record
    assert retention.prune() == 0


def test_the_host_turns_recording_off_and_on_and_nobody_else_can(room: Room, alice, carol) -> None:
    url = f"/rooms/{room.slug}/recording"
    assert actions.recording_wanted(room.pk)
    assert client_of(carol).post(url, {"enabled": "0"}).status_code == 403
    assert client_of(None).post(url, {"enabled": "0"}).status_code == 401
    assert client_of(alice).post(url, {"enabled": "maybe"}).status_code == 400
    assert client_of(alice).post(url, {"enabled": "0"}).json() == {"enabled": False}
    assert not actions.recording_wanted(room.pk)
    assert client_of(alice).post(url, {"enabled": False}, content_type="application/json").json() == {"enabled": False}
    assert client_of(alice).post(url, {"enabled": "1"}).json() == {"enabled": True}
    assert actions.recording_wanted(room.pk)
    with override_settings(RECORDING_ENABLED=False):
        assert not actions.recording_wanted(room.pk)
        assert client_of(alice).post(url, {"enabled": "1"}).status_code == 403
