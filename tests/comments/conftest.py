from collections.abc import Iterator

import pytest

from liverooms.celery import app


@pytest.fixture
def tasks_run_here() -> Iterator[None]:
    """Celery tasks run in the calling process, as they do without a broker, in both CI setups;
    a real worker on Redis runs them in tests/comments/test_tasks.py."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
