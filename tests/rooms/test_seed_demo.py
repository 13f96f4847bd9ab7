"""`seed_demo` (run by `make run`) names the address the server really listens on."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_prints_the_real_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9123")
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo room: http://127.0.0.1:9123/rooms/" in out.getvalue()


def test_it_says_8000_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo room: http://127.0.0.1:8000/rooms/" in out.getvalue()
