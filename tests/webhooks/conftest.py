"""The webhook tests' receiver listens on 127.0.0.1: deliveries to private addresses are allowed
here, except in the tests that prove they are refused (which turn the setting off again)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _private_receivers_allowed(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
