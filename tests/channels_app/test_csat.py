"""What counts as a rating and as a sign-off: short, unambiguous, never a question about data."""

from __future__ import annotations

import pytest

from channels_app.csat import rating_in, signs_off


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        (" 4 ", 4),
        ("3/5", 3),
        ("2 out of 5", 2),
        ("5 stars", 5),
        ("1 star", 1),
        ("rating: 4", 4),
        ("4!", 4),
        ("⭐⭐⭐⭐", 4),
        ("⭐ ⭐ ⭐", 3),
    ],
)
def test_ratings(text: str, score: int) -> None:
    assert rating_in(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "6",
        "10",
        "45",
        "⭐⭐⭐⭐⭐⭐",
        "I have 3 campaigns",
        "3 posts about our winter sale",
        "pause campaign 2",
        "5 5 5 5 5 5 5 5 5 5 5 5 5",
        "$5",
        "5%",
    ],
)
def test_not_ratings(text: str) -> None:
    assert rating_in(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "thanks",
        "Thank you!",
        "ok thanks",
        "Great, thanks! That's all for today",
        "bye",
        "cheers",
        "that's all",
        "Have a good day",
    ],
)
def test_sign_offs(text: str) -> None:
    assert signs_off(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is my ROAS?",
        "thanks, and how much did we spend yesterday on TikTok?",
        "Can you pause the Meta campaign? thanks",
        "Thanks " + "a" * 100,
        "",
    ],
)
def test_not_sign_offs(text: str) -> None:
    assert not signs_off(text)
