"""Which process is a room's media origin: a lease in Redis, and the credential edges show it.

A room's **origin** is the process holding its publishers. With `REDIS_URL` and
`LIVEROOMS_INTERNAL_URL` both set (a cluster), the origin holds a lease in Redis: one key per room
whose value names the holder (`<run id> <internal URL>`), written with `SET NX PX` and renewed
by the holder every third of `ORIGIN_LEASE_SECONDS` while it has the room's relay. A holder that
stalls past the lease loses it: its next renewal finds another value (or none) and the process
stops acting as origin. A lease naming this process's own URL under another run id is its previous
run's (killed, then restarted on the same URL): that run cannot be reached at the URL any more, so
the restarted process takes the lease over at once instead of answering 503 until it runs out
(each process's URL must be its own: it is how the others reach it). Without both settings there
is one media process (a laptop, or the old "send a room's media to one process" balancer) and it is
every room's origin: no registry.

Edges (`media.edge`) subscribe to the origin over WHEP at its internal URL, showing a credential
only the cluster's processes can make: an HMAC of the room's slug and an expiry under
`SECRET_KEY` (`X-Liverooms-Edge`). The balancer in front must not pass that header from outside
(nginx: `proxy_set_header X-Liverooms-Edge "";`); even so, a stolen one is good for one room for `CREDENTIAL_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings

from liverooms import process

logger = logging.getLogger(__name__)

EDGE_HEADER = "X-Liverooms-Edge"
#: the real client's address, on a WHIP request one process forwards to the origin (with the credential)
CLIENT_HEADER = "X-Liverooms-Client"
CREDENTIAL_SECONDS = 60

#: this process's run id (its boot id): a restarted process on the same URL is another holder,
#: and knows a lease of its URL with another run id for its previous run's
RUN_ID = secrets.token_hex(8)


@dataclass(frozen=True)
class Holder:
    """A room's origin: a process, by run id, reachable at `url` (its LIVEROOMS_INTERNAL_URL)."""

    run: str
    url: str

    def encode(self) -> str:
        return f"{self.run} {self.url}"

    @classmethod
    def decode(cls, value: str | bytes | None) -> Holder | None:
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        run, _, url = text.partition(" ")
        return cls(run, url) if run and url else None


class Leases(Protocol):
    """Keys with an owner and an expiry (Redis in a cluster; `MemoryLeases` in tests)."""

    async def claim(self, key: str, value: str, ttl: float) -> str | None:
        """Set `key` to `value` for `ttl` s if it has no live value; return its value after."""

    async def renew(self, key: str, value: str, ttl: float) -> bool:
        """Extend `key` by `ttl` s if it still holds `value`; False if it does not (lost)."""

    async def release(self, key: str, value: str) -> None:
        """Delete `key` if it still holds `value`."""

    async def replace(self, key: str, old: str, value: str, ttl: float) -> bool:
        """Set `key` to `value` for `ttl` s if it still holds `old`; False if it does not."""

    async def get(self, key: str) -> str | None: ...


class MemoryLeases:
    """Leases in one process, on a clock of the caller's choosing (the unit tests')."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._keys: dict[str, tuple[str, float]] = {}

    async def get(self, key: str) -> str | None:
        entry = self._keys.get(key)
        if entry is None or entry[1] <= self.clock():
            self._keys.pop(key, None)
            return None
        return entry[0]

    async def claim(self, key: str, value: str, ttl: float) -> str | None:
        current = await self.get(key)
        if current is None:
            self._keys[key] = (value, self.clock() + ttl)
            return value
        return current

    async def renew(self, key: str, value: str, ttl: float) -> bool:
        if await self.get(key) != value:
            return False
        self._keys[key] = (value, self.clock() + ttl)
        return True

    async def release(self, key: str, value: str) -> None:
        if await self.get(key) == value:
            del self._keys[key]

    async def replace(self, key: str, old: str, value: str, ttl: float) -> bool:
        if await self.get(key) != old:
            return False
        self._keys[key] = (value, self.clock() + ttl)
        return True


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_REPLACE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeases:
    """Leases in Redis, on Redis's clock (PX expiry): every process sees the same holder."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _client(self) -> aioredis.Redis:
        return process.redis(self.url)

    async def get(self, key: str) -> str | None:
        value = await self._client().get(key)
        return value.decode() if value is not None else None

    async def claim(self, key: str, value: str, ttl: float) -> str | None:
        client = self._client()
        if await client.set(key, value, nx=True, px=max(1, int(ttl * 1000))):
            return value
        return await self.get(key)

    async def renew(self, key: str, value: str, ttl: float) -> bool:
        done = await self._client().eval(_RENEW, 1, key, value, max(1, int(ttl * 1000)))  # type: ignore[misc]
        return bool(done)

    async def release(self, key: str, value: str) -> None:
        await self._client().eval(_RELEASE, 1, key, value)  # type: ignore[misc]

    async def replace(self, key: str, old: str, value: str, ttl: float) -> bool:
        done = await self._client().eval(_REPLACE, 1, key, old, value, max(1, int(ttl * 1000)))  # type: ignore[misc]
        return bool(done)


class Registry:
    """Who is each room's origin; this process is `me`."""

    def __init__(self, leases: Leases, me: Holder, *, ttl: float) -> None:
        self.leases = leases
        self.me = me
        self.ttl = ttl

    @staticmethod
    def key(room_id: int) -> str:
        return f"liverooms:origin:{room_id}"

    def earlier_run(self, holder: Holder | None) -> bool:
        """Whether `holder` is this process's previous run: its URL, another run id. Whatever
        held the lease then is not at this URL now (this process is), so it serves nobody."""
        return holder is not None and holder.url == self.me.url and holder.run != self.me.run

    async def origin_of(self, room_id: int) -> Holder | None:
        """The room's live holder, if any (a lease of this process's previous run is none)."""
        holder = Holder.decode(await self.leases.get(self.key(room_id)))
        return None if self.earlier_run(holder) else holder

    async def claim(self, room_id: int, *, take_over: bool = True) -> Holder | None:
        """Take the room's lease if nobody holds it, or if this process's previous run held it
        (`take_over`); return the holder after (`me` if it is ours)."""
        key = self.key(room_id)
        holder = Holder.decode(await self.leases.claim(key, self.me.encode(), self.ttl))
        if not take_over or holder is None or not self.earlier_run(holder):
            return holder
        if await self.leases.replace(key, holder.encode(), self.me.encode(), self.ttl):
            logger.info("room %s: took over the origin lease of this URL's previous run %s", room_id, holder.run)
            return self.me
        return Holder.decode(await self.leases.get(key))

    async def renew(self, room_id: int) -> bool:
        return await self.leases.renew(self.key(room_id), self.me.encode(), self.ttl)

    async def release(self, room_id: int) -> None:
        await self.leases.release(self.key(room_id), self.me.encode())

    @property
    def renew_every(self) -> float:
        return self.ttl / 3


_registry: Registry | None = None


def registry() -> Registry | None:
    """The cluster's registry, or None when this process is the only media process."""
    global _registry
    url = settings.LIVEROOMS_INTERNAL_URL
    if not (settings.REDIS_URL and url):
        return None
    ttl = settings.ORIGIN_LEASE_SECONDS
    if _registry is None or _registry.me.url != url or _registry.ttl != ttl:
        _registry = Registry(RedisLeases(settings.REDIS_URL), Holder(RUN_ID, url.rstrip("/")), ttl=ttl)
    return _registry


def _signature(slug: str, expires: int) -> str:
    key = hashlib.sha256(b"liverooms-edge:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{slug}:{expires}".encode(), hashlib.sha256).hexdigest()


def edge_credential(slug: str, *, now: float | None = None) -> str:
    """What an edge (or a process forwarding a WHIP offer) shows the origin for `slug`."""
    expires = int(now if now is not None else time.time()) + CREDENTIAL_SECONDS
    return f"{expires}.{_signature(slug, expires)}"


def is_internal(credential: str | None, slug: str, *, now: float | None = None) -> bool:
    """True for a credential `edge_credential(slug)` made less than CREDENTIAL_SECONDS ago."""
    if not credential:
        return False
    expires_text, _, signature = credential.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature, _signature(slug, expires))
