"""The error every action raises when it refuses; `code` is the wire protocol's error code."""

from __future__ import annotations

from typing import Literal

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
]


class ActionError(Exception):
    """An action refused: nothing was changed. `code` and `message` go to the client as-is."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
