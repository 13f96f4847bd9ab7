"""What a comment's text is before anything checks it: one normal form for the length check,
the emptiness check and the word filter alike (docs/protocol.md, "Text").

- Unicode NFKC: full-width letters, ligatures and styled letters become their plain forms.
- Format characters (category Cf: zero-width spaces and joiners, bidi controls, soft hyphens)
  and control characters are removed (a zero-width joiner stays between two emoji, where it
  makes one picture of several, never next to a letter or digit); invisible "letters" (Hangul
  fillers, the braille blank) too, so nothing invisible can stand for a comment or split a blocked word.
- Every run of white space becomes one space; a letter keeps at most `MAX_MARKS` combining
  marks (no "Zalgo" text spilling over the comments above it).
"""

from __future__ import annotations

import re
import unicodedata

MAX_MARKS = 2
# Letters and symbols that draw nothing, though Unicode does not call them format characters.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f")
_SPACES = re.compile(r"\s+")
_ZWJ = "\u200d"


def normalise(text: str) -> str:
    """The text as it is checked, stored and shown."""
    text = unicodedata.normalize("NFKC", text)
    kept: list[str] = []
    marks = 0
    for n, char in enumerate(text):
        category = unicodedata.category(char)
        if char == _ZWJ and _between_pictures(kept, text[n + 1 : n + 2]):
            kept.append(char)
            continue
        if category in ("Cf", "Cs") or char in _INVISIBLE:
            continue
        if category == "Cc":
            char = " "  # a newline or tab separates words; other controls are dropped with it
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS:
                continue
        else:
            marks = 0
        kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def _between_pictures(before: list[str], after: str) -> bool:
    return bool(before and after) and all(unicodedata.category(c)[0] not in "LNZC" for c in (before[-1], after))


def folded(text: str) -> str:
    """The form the word filter compares: normalised and case-folded."""
    return normalise(text).casefold()
