"""Stopping background loops for sure (liverooms.aio.cancel_and_wait)."""

from __future__ import annotations

import asyncio

from liverooms.aio import cancel_and_wait


async def _swallows_one_cancellation(rounds: list[int]) -> None:
    """A loop whose callee loses the first cancellation (as a thread's result or a deadline landing
    at the same moment can), then goes round again."""
    swallowed = False
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed = True
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        rounds.append(1)


async def test_a_loop_that_swallows_a_cancellation_still_stops() -> None:
    once: list[int] = []
    once_task = asyncio.create_task(_swallows_one_cancellation(once))
    await asyncio.sleep(0.05)
    once_task.cancel()
    done, _ = await asyncio.wait([once_task], timeout=0.2)
    assert not done  # cancel(); await task would wait here forever
    assert await asyncio.wait_for(cancel_and_wait([once_task]), 2) == []

    rounds: list[int] = []
    task = asyncio.create_task(_swallows_one_cancellation(rounds))
    await asyncio.sleep(0.05)
    before = len(rounds)
    assert await asyncio.wait_for(cancel_and_wait([task], again_every=0.05), 2) == []
    assert task.cancelled()
    assert len(rounds) > before  # it did go round again after the first cancellation


async def test_it_returns_what_a_task_had_failed_with_and_waits_for_the_rest() -> None:
    async def fails() -> None:
        raise ValueError("broken")

    failed, sleeping = asyncio.create_task(fails()), asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    errors = await cancel_and_wait([failed, sleeping])
    assert [str(e) for e in errors] == ["broken"]
    assert sleeping.cancelled()
