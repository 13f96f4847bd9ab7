"""Parse and check client frames (docs/protocol.md) before anything acts on them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from liverooms.errors import ActionError, ErrorCode

MAX_FRAME_CHARS = 64 * 1024
MAX_REF_CHARS = 100
MAX_INT = 2**31 - 1  # no field counts further (an `index` of 2**64 is not a seat)
# Strings no database or UTF-8 encoder takes: lone surrogates (JSON's "\udfff") and NUL.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")

# type -> {field: (python type, required)}; bool is checked apart from int (True is not an int here).
_SCHEMAS: dict[str, dict[str, tuple[type, bool]]] = {
    "comment.post": {"text": (str, True)},
    "reaction.send": {"kind": (str, True)},
    "seat.set": {"index": (int, False), "camera": (bool, False), "mic": (bool, False)},
    "seat.request": {},
    "seat.invite": {"username": (str, True)},
    "seat.accept": {},
    "seat.decline": {},
    "seat.leave": {},
    "seat.remove": {"index": (int, True)},
    "comments.set": {"enabled": (bool, False), "slow_mode": (int, False)},
    "room.end": {},
    "qa.set": {"enabled": (bool, True)},
    "question.ask": {"text": (str, True)},
    "question.vote": {"question_id": (int, True), "up": (bool, True)},
    "question.spotlight": {"question_id": (int, False)},  # missing or null: clear the spotlight
    "question.answered": {"question_id": (int, True)},
    "question.dismiss": {"question_id": (int, True)},
    "comment.pin": {"comment_id": (int, False)},  # missing or null: unpin
    "comment.remove": {"comment_id": (int, True)},
    "user.timeout": {"username": (str, True), "seconds": (int, True)},
    "moderator.set": {"username": (str, True), "on": (bool, True)},
    "held.approve": {"comment_id": (int, True)},
    "held.reject": {"comment_id": (int, True)},
}
CLIENT_TYPES = frozenset(_SCHEMAS)


_KINDS = {
    str: "a string (no NUL, no lone surrogate)",
    int: f"a whole number between -{MAX_INT} and {MAX_INT}",
    bool: "true or false",
}


class FrameError(ActionError):
    """A frame that could not be understood; `ref` is echoed when it could be read."""

    def __init__(self, message: str, *, ref: str | None = None, code: ErrorCode = "bad_request") -> None:
        super().__init__(code, message)
        self.ref = ref


@dataclass(frozen=True)
class ClientFrame:
    type: str
    ref: str | None
    fields: dict[str, Any] = field(default_factory=dict)


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT <= value <= MAX_INT
    if kind is str:
        return isinstance(value, str) and _UNSTORABLE.search(value) is None
    return isinstance(value, kind)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        # not JSON, NaN/Infinity, an int of more digits than Python converts, or nested too deep
        raise FrameError("A frame must be one JSON object.") from None


def _shown(value: Any) -> str:
    """A client's value as an error message may quote it: short, and printable."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(text: str | None) -> ClientFrame:
    """One client frame, checked against its type's fields; raises FrameError otherwise."""
    if text is None:
        raise FrameError("Frames are JSON text, not binary.")
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(f"A frame is at most {MAX_FRAME_CHARS} characters.", code="too_long")
    data = _loads(text)
    if not isinstance(data, dict):
        raise FrameError("A frame must be one JSON object.")
    ref = data.get("ref")
    if ref is not None and (not _is(ref, str) or len(ref) > MAX_REF_CHARS):
        raise FrameError(f"`ref` must be a string of at most {MAX_REF_CHARS} characters.")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _SCHEMAS:
        raise FrameError(f"Unknown frame type {_shown(kind)}.", ref=ref)
    fields: dict[str, Any] = {}
    for name, (expected, required) in _SCHEMAS[kind].items():
        if name not in data or data[name] is None:
            if required:
                raise FrameError(f"`{kind}` needs `{name}`.", ref=ref)
            continue
        if not _is(data[name], expected):
            raise FrameError(f"`{name}` must be {_KINDS[expected]}.", ref=ref)
        fields[name] = data[name]
    return ClientFrame(type=kind, ref=ref, fields=fields)
