"""A bulk removal reaches a watching viewer: every comment.removed, in order, once."""

import pytest
from channels.db import database_sync_to_async as sync_to_async

from comments.bulk import open_ban_job, run_job
from comments.models import Comment
from rooms.models import Room
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_viewer_sees_every_removal_of_a_bulk_job_in_order(room: Room, alice, carol, mod) -> None:
    spam = await sync_to_async(Comment.objects.bulk_create)(
        Comment(room=room, author=carol, text=f"spam {n}") for n in range(500)
    )
    viewer = await join(room, alice)
    assert len(viewer.state["comments"]) > 0
    job = await sync_to_async(open_ban_job)(target=carol, room=room, by=mod)
    assert await sync_to_async(run_job)(job_id=job.pk, batch_size=200) == 500
    frames = [await viewer.recv("comment.removed") for _ in spam]
    assert [f["comment_id"] for f in frames] == [c.pk for c in spam]
    assert [f["seq"] for f in frames] == list(range(1, 501))
    await viewer.nothing_more()
    await viewer.close()
