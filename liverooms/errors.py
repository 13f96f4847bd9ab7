"""The error every action raises when it refuses; `code` is the wire protocol's error code."""

from __future__ import annotations

from typing import Any, Literal

ErrorCode = Literal[
    "bad_request",
    "unauthenticated",
    "forbidden",
    "not_found",
    "rate_limited",
    "too_long",
    "room_full",
    "room_ended",
    "comments_off",
    "banned",
    "internal",
]


class ActionError(Exception):
    """An action refused: nothing was changed. `code` and `message` go to the client as-is, and so
    do `fields` (`retry_after` of `rate_limited`, `until` of `banned`)."""

    def __init__(self, code: ErrorCode, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.fields = fields


def rate_limited(message: str, *, wait: float) -> ActionError:
    """`rate_limited` with the whole seconds to wait before trying again."""
    from liverooms.ratelimit import retry_after

    return ActionError("rate_limited", message, retry_after=retry_after(wait))
