"""The title a conversation gets from its first message (no model call)."""

from __future__ import annotations

import pytest

from agentarch.services.conversations import TITLE_MAX_CHARS, derive_title


@pytest.mark.parametrize(
    "message, title",
    [
        ("What's the weather in Lisbon?", "What's the weather in Lisbon?"),
        ("  Plan   a\ttrip \nto Lisbon in May", "Plan a trip"),
        ("\n\n   \nsecond line is the first with words\nthird", "second line is the first with words"),
        (
            "What is the weather going to be like in Lisbon next week when I travel there?",
            "What is the weather going to be like in Lisbon next week…",
        ),
        ("x" * 80, "x" * 59 + "…"),
        ("", "New conversation"),
        (" \n\t \n", "New conversation"),
        ("a" * 60, "a" * 60),
        (
            "Compare these, please: " + "option " * 10,
            "Compare these, please: option option option option option…",
        ),
    ],
)
def test_the_title_is_the_first_line_tidied_and_shortened(message: str, title: str) -> None:
    assert derive_title(message) == title


def test_a_long_title_is_cut_on_a_word_boundary_with_an_ellipsis() -> None:
    message = "Tell me everything about the history of Portuguese tiles and where to see them"

    title = derive_title(message)

    assert len(title) <= TITLE_MAX_CHARS
    assert title.endswith("…")
    assert message.startswith(title[:-1])
    assert message[len(title) - 1] == " ", "the cut falls between words"


def test_the_same_message_always_gives_the_same_title() -> None:
    message = "Plan a trip to Lisbon with a day in Sintra and one in Cascais, please"
    assert len({derive_title(message) for _ in range(5)}) == 1
