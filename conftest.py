"""Shared fixtures. The cast: alice hosts, bob guests, carol watches, mod moderates."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings

from comments.moderation import moderators_group
from liverooms import process
from rooms import actions as room_actions
from rooms.models import Room

PASSWORD = "a-long-test-password"  # noqa: S105 - test accounts only


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Real hashing costs ~0.2 s a user by design; tests make many users."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _fresh_media_root() -> None:
    """Rooms record by default (media.recording): each run starts from an empty MEDIA_ROOT."""
    if Path(settings.MEDIA_ROOT).is_relative_to(settings.VAR_DIR):  # never a folder the tests don't own
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_process() -> None:
    """Every test starts as a fresh process on empty stores (ids repeat across runs, and the cache
    outlives the test database): the process's own state (hubs and Redis clients of each event loop,
    in-process rate-limit buckets, cached webhook endpoints, the channel layers: liverooms.process),
    then the shared store, the local-memory cache or, with Redis, its whole database (FLUSHDB: rate
    limits, viewer counts, origin leases, reaction totals)."""
    process.reset()
    cache.clear()


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob")


@pytest.fixture
def carol(db: None) -> User:
    return make_user("carol")


@pytest.fixture
def mod(db: None) -> User:
    user = make_user("mod")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(moderators_group())
    return user


@pytest.fixture
def room(alice: User) -> Room:
    """Alice's live room, seats empty but hers."""
    return room_actions.create_room(host=alice, title="Alice live")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Keep the SQLite test database in a file, so servers started by tests can open it too."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / f"test-db-{os.getpid()}.sqlite3")
