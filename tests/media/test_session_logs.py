"""A WHIP/WHEP session id is the capability to DELETE the session: logs above DEBUG name a session
by a short hash of it (media.relay.session_label), never by the id."""

from __future__ import annotations

import logging

import pytest
from django.test import AsyncClient

from media.relay import session_label
from rooms.models import Room
from tests.media.peers import NewRelay, Peers, Publisher, Viewer, wait_for

SDP = "application/sdp"


def above_debug(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]


async def test_it_logs_a_session_that_never_connects_by_its_label(
    new_relay: NewRelay, peers: Peers, caplog: pytest.LogCaptureFixture
) -> None:
    relay = new_relay(connect_timeout=0.3)
    caplog.set_level(logging.DEBUG)
    ghosts = [peers.add(Publisher(1)), peers.add(Viewer(4))]
    publisher, _ = await relay.publish(1, await ghosts[0].offer())  # answers never applied
    viewer, _ = await relay.watch(await ghosts[1].offer())
    await wait_for(lambda: relay.session_count() == 0, within=5.0, what="both timed out")
    messages = above_debug(caplog)
    for session in (publisher, viewer):
        assert not [m for m in messages if session in m], f"session id {session} logged above DEBUG"
        assert any(session_label(session) in m and "did not connect" in m for m in messages)
        # DEBUG ties the label to the id, for whoever turns DEBUG on to follow one session
        assert any(session in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert session_label(publisher) != session_label(viewer)
    assert len(session_label(publisher)) == 8


@pytest.mark.django_db(transaction=True)
async def test_whep_and_its_delete_log_no_session_id(
    relays: None, room: Room, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    viewer = Viewer(4)
    client = AsyncClient()
    try:
        watched = await client.post(f"/rooms/{room.slug}/whep", data=await viewer.offer(), content_type=SDP)
        assert watched.status_code == 201
        session = watched["Location"].rsplit("/", 1)[1]
        await viewer.accept(watched.content.decode())
        await wait_for(lambda: viewer.pc.connectionState == "connected", what="viewer connected")
        assert (await client.delete(watched["Location"])).status_code == 204
        assert not [m for m in above_debug(caplog) if session in m]
    finally:
        await viewer.close()
