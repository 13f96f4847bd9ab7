# ruff: noqa: RUF001 - full-width look-alikes are what these tests are about
"""Comment text is normalised before any check: nothing invisible is a comment, and a blocked word
cannot hide behind full-width letters or zero-width characters."""

from __future__ import annotations

import pytest

from comments.actions import post_comment
from comments.models import BlockedWord, Comment
from comments.text import normalise
from liverooms.errors import ActionError
from rooms.models import Room

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    ["\u200b\u200b", "\u200b \u200c\u200d\ufeff", "\u202e\u2066", "\u3164\u3164", "\u2800", " \n\t ", "\u00ad"],
)
def test_an_invisible_comment_is_refused(room: Room, carol, text: str) -> None:
    with pytest.raises(ActionError) as refused:
        post_comment(room=room, author=carol, text=text)
    assert refused.value.code == "bad_request"
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "badword",
        "BADWORD",
        "bad\u200bword",
        "b\u200da\u200cd\u2060word",
        "ｂａｄｗｏｒｄ",
        "ＢＡＤ\u200bword",
        "bad\u00adword",
    ],
)
def test_a_blocked_word_matches_however_it_is_dressed(room: Room, carol, text: str) -> None:
    BlockedWord.objects.create(word="badword")
    with pytest.raises(ActionError) as refused:
        post_comment(room=room, author=carol, text=f"you {text} you")
    assert refused.value.code == "forbidden"
    assert not Comment.objects.exists()


def test_a_full_width_blocked_word_blocks_the_plain_one(room: Room, carol) -> None:
    BlockedWord.objects.create(word="ｓｐａｍ")
    with pytest.raises(ActionError):
        post_comment(room=room, author=carol, text="buy spam now")


def test_what_is_stored_is_the_normal_form(room: Room, carol) -> None:
    comment = post_comment(room=room, author=carol, text="  ｈｉ\u200b there\n\nfriend \u202e ")
    assert comment.text == "hi there friend"


def test_the_length_limit_counts_the_normal_form(room: Room, carol) -> None:
    # 500 visible letters and 500 zero-width spaces: 500 characters once normalised
    comment = post_comment(room=room, author=carol, text="a\u200b" * 500)
    assert len(comment.text) == 500
    with pytest.raises(ActionError) as refused:
        post_comment(room=room, author=carol, text="ｂ" * 501)
    assert refused.value.code == "too_long"


def test_emoji_sequences_and_accents_survive() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalise(f"so cute {family}") == f"so cute {family}"
    assert normalise("cafe\u0301 crème") == "café crème"
    zalgo = "h" + "\u0301\u0302\u0303\u0304\u0305" * 20 + "i"
    assert normalise(zalgo) == "h\u0301\u0302i"
