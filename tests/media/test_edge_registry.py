"""The origin registry: a room's lease is claimed once, renewed by its holder, and lost when it
stops renewing; the internal credential edges show is good for one room, for a minute."""

from __future__ import annotations

import asyncio

import pytest
import redis
from django.conf import settings

from media.origin import Holder, MemoryLeases, RedisLeases, Registry, edge_credential, is_internal

A = Holder("run-a", "http://127.0.0.1:8101")
B = Holder("run-b", "http://127.0.0.1:8102")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_it_claims_renews_and_expires_a_lease() -> None:
    clock = Clock()
    leases = MemoryLeases(clock)
    a, b = Registry(leases, A, ttl=10), Registry(leases, B, ttl=10)

    assert await a.origin_of(7) is None
    assert await a.claim(7) == A
    assert await b.claim(7) == A  # held: B learns who holds it
    assert await b.origin_of(8) is None  # other rooms are free
    clock.now += 9
    assert await a.renew(7)  # renewed in time: good for 10 s more
    clock.now += 9
    assert await b.claim(7) == A
    assert not await b.renew(7)  # a renewal never takes someone else's lease

    clock.now += 10.5  # A stalled past its lease
    assert await b.origin_of(7) is None
    assert await b.claim(7) == B
    assert not await a.renew(7)  # A finds it lost
    await a.release(7)  # and releasing what is not yours changes nothing
    assert await a.origin_of(7) == B
    await b.release(7)
    assert await a.origin_of(7) is None


async def test_a_process_restarted_on_its_url_takes_its_earlier_runs_lease_over() -> None:
    leases = MemoryLeases(Clock())
    before, after = Registry(leases, A, ttl=10), Registry(leases, Holder("run-a2", A.url), ttl=10)
    b = Registry(leases, B, ttl=10)
    assert await before.claim(7) == A  # then killed: its lease runs 10 s more
    assert await after.origin_of(7) is None  # its own URL's earlier run serves nobody
    assert await b.origin_of(7) == A  # others cannot tell (they learn when the lease changes)
    assert await after.claim(7, take_over=False) == A  # a renewal's claim does not take over
    assert await after.claim(7) == after.me
    assert await b.origin_of(7) == after.me
    assert not await before.renew(7)
    assert await b.claim(7) == after.me  # another URL never takes over a live lease


async def test_a_lease_changed_meanwhile_is_not_taken_over() -> None:
    leases = MemoryLeases(Clock())
    after = Registry(leases, Holder("run-a2", A.url), ttl=10)
    assert await leases.claim(Registry.key(7), A.encode(), 10) == A.encode()
    assert not await leases.replace(Registry.key(7), B.encode(), after.me.encode(), 10)  # not what it holds
    assert await leases.get(Registry.key(7)) == A.encode()
    assert await leases.replace(Registry.key(7), A.encode(), after.me.encode(), 10)
    assert await after.origin_of(7) == after.me


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis")
async def test_it_keeps_the_lease_in_redis_on_redis_clock() -> None:
    leases = RedisLeases(settings.REDIS_URL)
    a, b = Registry(leases, A, ttl=0.3), Registry(leases, B, ttl=0.3)
    room = 990_001
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(Registry.key(room))
    try:
        assert await a.claim(room) == A
        assert await b.claim(room) == A
        for _ in range(3):  # renewed every 0.15 s, it outlives its 0.3 s many times over
            await asyncio.sleep(0.15)
            assert await a.renew(room)
        assert await b.origin_of(room) == A
        await asyncio.sleep(0.4)
        assert await b.claim(room) == B
        assert not await a.renew(room)
        await a.release(room)
        assert await b.origin_of(room) == B
        restarted = Registry(leases, Holder("run-b2", B.url), ttl=0.3)  # B killed, then started again
        assert await restarted.claim(room) == restarted.me  # at once, not after the lease
        assert not await b.renew(room)
        assert await a.claim(room) == restarted.me
    finally:
        client.delete(Registry.key(room))
        client.close()


def test_it_accepts_only_its_own_fresh_credential_for_that_room() -> None:
    credential = edge_credential("alice-live", now=1000)
    assert is_internal(credential, "alice-live", now=1000)
    assert is_internal(credential, "alice-live", now=1059)
    assert not is_internal(credential, "alice-live", now=1061)  # a minute, no more
    assert not is_internal(credential, "bob-live", now=1000)
    expires, _, signature = credential.partition(".")
    assert not is_internal(f"{int(expires) + 3600}.{signature}", "alice-live", now=1000)
    tampered = signature[:-1] + ("1" if signature[-1] != "1" else "2")
    assert not is_internal(f"{expires}.{tampered}", "alice-live", now=1000)
    for junk in (None, "", "x", ".", "9" * 40 + "." + signature, "1e9.abc"):
        assert not is_internal(junk, "alice-live", now=1000)
