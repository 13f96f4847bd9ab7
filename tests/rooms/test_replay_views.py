"""The replay page and its timeline: who may watch, what it holds, and what it never shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from comments import actions as comment_actions
from comments import review
from comments.models import BlockedWord, Comment
from media.models import Replay
from rooms.models import Room
from tests.rooms.replays import finish, recorded, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files() -> Iterator[None]:
    with stored_files():
        yield


def client_as(user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page_timeline(html: str) -> dict:
    found = re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no timeline on the page"
    return json.loads(found.group(1))


def comment_at(room: Room, author, text: str, zero, seconds: float) -> Comment:  # type: ignore[no-untyped-def]
    comment = comment_actions.post_comment(room=room, author=author, text=text)
    Comment.objects.filter(pk=comment.pk).update(created_at=zero + timedelta(seconds=seconds))
    return comment


def test_it_plays_an_ended_lives_seats_and_comments_to_anyone(room: Room, alice, bob, carol) -> None:
    zero = recorded(room, [alice, bob], seconds=4, offsets=[0, 1.5])
    comment_at(room, carol, "first!", zero, 1.25)
    finish(room, ended_at=zero + timedelta(seconds=4.5))

    response = client_as().get(f"/rooms/{room.slug}/replay/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="tile" data-seat="0"' in html
    assert 'class="tile" data-seat="1"' in html
    timeline = page_timeline(html)
    assert [seat["index"] for seat in timeline["seats"]] == [0, 1]
    assert [seat["user"]["username"] for seat in timeline["seats"]] == ["alice", "bob"]
    [host_file] = timeline["seats"][0]["tracks"]
    [guest_file] = timeline["seats"][1]["tracks"]
    assert (host_file["start"], host_file["end"]) == (0.0, 4.0)
    assert (guest_file["start"], guest_file["end"]) == (1.5, 4.0)
    assert timeline["duration"] == 4.5  # until the live ended
    assert [(c["text"], c["at"]) for c in timeline["comments"]] == [("first!", 1.25)]
    assert "replay-host" not in html  # nobody's but the host's panel
    # the file plays for the same visitor (Range, as a <video> asks)
    media = client_as().get(host_file["url"], HTTP_RANGE="bytes=0-99")
    assert media.status_code == 206
    assert b"".join(media.streaming_content)[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM

    served = client_as().get(f"/rooms/{room.slug}/replay/timeline")
    assert served.status_code == 200
    assert served["ETag"]
    assert served.json() == timeline


def test_a_live_that_has_not_ended_sends_you_to_the_live(room: Room, alice) -> None:
    recorded(room, [alice])
    response = client_as().get(f"/rooms/{room.slug}/replay/")
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.slug}/"
    assert client_as().get(f"/rooms/{room.slug}/replay/timeline").json()["code"] == "live"


def test_no_replay_a_deleted_one_and_an_unknown_room_get_a_clear_404(room: Room, alice) -> None:
    finish(room)  # nothing was recorded
    response = client_as().get(f"/rooms/{room.slug}/replay/")
    assert response.status_code == 404
    assert "There is no replay of this live" in response.content.decode()

    recorded(room, [alice])
    Replay.objects.filter(room=room).update(deleted_at=timezone.now())
    assert client_as(alice).get(f"/rooms/{room.slug}/replay/").status_code == 404
    assert client_as(alice).get(f"/rooms/{room.slug}/replay/timeline").json()["code"] == "missing"
    assert client_as().get("/rooms/no-such-room/replay/").status_code == 404


def test_a_replay_still_being_closed_says_so(room: Room, alice) -> None:
    recorded(room, [alice])
    finish(room, ready=False)
    response = client_as().get(f"/rooms/{room.slug}/replay/")
    assert response.status_code == 404
    assert response["Retry-After"] == "5"
    assert "almost ready" in response.content.decode()


def test_a_private_replay_is_the_hosts_alone(room: Room, alice, carol, mod) -> None:
    recorded(room, [alice])
    finish(room, private=True)

    refused = client_as(carol).get(f"/rooms/{room.slug}/replay/")
    assert refused.status_code == 403
    assert "This replay is private" in refused.content.decode()
    assert client_as().get(f"/rooms/{room.slug}/replay/").status_code == 403
    assert client_as(carol).get(f"/rooms/{room.slug}/replay/timeline").status_code == 403

    own = client_as(alice).get(f"/rooms/{room.slug}/replay/")
    assert own.status_code == 200
    html = own.content.decode()
    assert 'id="replay-host"' in html
    assert "Make public" in html
    # its files are refused to others too: the page and its tiles follow one rule
    url = page_timeline(html)["seats"][0]["tracks"][0]["url"]
    assert client_as(carol).get(url).status_code == 404
    assert client_as(alice).get(url).status_code == 200


def test_removed_held_and_rejected_comments_are_never_on_the_replay(room: Room, alice, bob, carol, mod) -> None:
    zero = recorded(room, [alice])
    kept = comment_at(room, carol, "kept <script>alert(1)</script>", zero, 1)
    removed = comment_at(room, bob, "removed during the live", zero, 2)
    comment_actions.remove_comment(comment=removed, by=mod)
    BlockedWord.objects.create(room=room, word="spoiler", action=BlockedWord.Action.HOLD)
    comment_actions.post_comment(room=room, author=carol, text="spoiler still held")
    rejected = comment_actions.post_comment(room=room, author=bob, text="spoiler rejected")
    review.reject(room=room, user=alice, comment_id=rejected.pk)
    after = comment_at(room, bob, "removed after the live", zero, 3)
    finish(room)
    comment_actions.remove_comment(comment=after, by=mod)

    html = client_as(carol).get(f"/rooms/{room.slug}/replay/").content.decode()
    timeline = client_as(carol).get(f"/rooms/{room.slug}/replay/timeline").content.decode()

    for text in (html, timeline):
        assert "removed during" not in text
        assert "removed after" not in text
        assert "spoiler" not in text
    assert [c["id"] for c in page_timeline(html)["comments"]] == [kept.pk]
    assert "<script>alert" not in html  # the page's JSON escapes it; replay.js sets textContent


def test_a_comment_removed_after_the_page_opened_leaves_the_next_timeline(room: Room, alice, carol, mod) -> None:
    zero = recorded(room, [alice])
    comment = comment_at(room, carol, "soon removed", zero, 1)
    finish(room)
    client = client_as()
    page = client.get(f"/rooms/{room.slug}/replay/").content.decode()
    etag = re.search(r'data-etag="([^"]+)"', page).group(1).replace("&quot;", '"')  # type: ignore[union-attr]

    unchanged = client.get(f"/rooms/{room.slug}/replay/timeline", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304

    comment_actions.remove_comment(comment=comment, by=mod)
    changed = client.get(f"/rooms/{room.slug}/replay/timeline", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["comments"] == []
    assert client.get(f"/rooms/{room.slug}/replay/timeline", HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


@override_settings(REPLAY_TIMELINE_BURST=3, REPLAY_TIMELINE_PER_MINUTE=6)
def test_polling_the_timeline_too_fast_gets_429_with_retry_after(room: Room, alice) -> None:
    recorded(room, [alice])
    finish(room)
    client = client_as()
    for _ in range(3):
        assert client.get(f"/rooms/{room.slug}/replay/timeline").status_code == 200
    refused = client.get(f"/rooms/{room.slug}/replay/timeline")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 10
    assert refused.json()["code"] == "rate_limited"


def test_the_ended_page_links_to_a_ready_replay_for_who_may_watch_it(room: Room, alice, carol) -> None:
    recorded(room, [alice])
    replay = finish(room, ready=False)
    link = f'href="/rooms/{room.slug}/replay/"'
    assert link not in client_as(carol).get(f"/rooms/{room.slug}/").content.decode()
    Replay.objects.filter(pk=replay.pk).update(ready_at=timezone.now())
    assert link in client_as(carol).get(f"/rooms/{room.slug}/").content.decode()
    Replay.objects.filter(pk=replay.pk).update(private=True)
    assert link not in client_as(carol).get(f"/rooms/{room.slug}/").content.decode()
    assert link in client_as(alice).get(f"/rooms/{room.slug}/").content.decode()


def test_the_replay_page_speaks_french(room: Room, alice) -> None:
    recorded(room, [alice])
    finish(room)
    html = client_as().get(f"/rooms/{room.slug}/replay/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Rediffusion" in html
    assert "Lecture" in html
