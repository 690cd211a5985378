"""mask_text runs in linear time: a megabyte built to make a backtracking pattern or
libphonenumber's matcher blow up is masked within seconds, and a long ordinary text is masked
right up to its edges."""

from __future__ import annotations

import time

import pytest

from privacy.masking import mask_text

MEGABYTE = 1_000_000
# Seconds of CPU: this process's own time, so that a busy machine cannot fail the test; a
# quadratic pattern takes minutes on these inputs, the masker about one second.
BOUND = 5.0


def repeated(piece: str) -> str:
    return (piece * (MEGABYTE // len(piece) + 1))[:MEGABYTE]


ADVERSARIAL = {
    "letters": "a" * MEGABYTE,
    "at signs": repeated("a@"),
    "dotted local part": repeated("a.") + "@",
    "tiny emails": repeated("a@b.co "),
    "ones and spaces": repeated("1 "),
    "pluses and ones": repeated("+1"),
    "digits": "1" * MEGABYTE,
    "brackets": repeated("(1) "),
    "dashes": repeated("1-"),
    "short E.164": repeated("+1234567 "),
    "digit runs": repeated("123456a"),
    "dates": repeated("2026-11-30 "),
    "phone numbers": repeated("415 555 0142, "),
    "card groups": repeated("4111 "),
    "valid cards": repeated("4111111111111111 "),
    "card and phone": repeated("4111 1111 1111 1111 415 555 0142 "),
    "house numbers": repeated("123 Main "),
    "addresses": repeated("123 Main St, "),
    "key prefixes": repeated("sk-"),
    "one long key": "sk-" + repeated("a1"),
    "keys": repeated("sk-abcdef0123456789xyz "),
    "AWS prefixes": repeated("AKIA"),
    "arabic digits": repeated("\u0661 "),
    "mixed": repeated("a@b.co +1 415 555 0142 4111 1111 1111 1111 123 Main St sk-abc123 "),
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_megabyte_built_to_blow_up_is_masked_in_bounded_time(text: str) -> None:
    started = time.process_time()
    mask_text(text)
    assert time.process_time() - started < BOUND


def test_a_long_ordinary_text_is_masked_up_to_its_edges() -> None:
    prose = "We did 3 posts about our winter sale; ROAS was 3.10x and CPC $1.25 (down 8%). "
    middle = repeated(prose)
    text = (
        f"Call +1 415 555 0142 or maya.chen@gmail.com. {middle} Card 4111 1111 1111 1111, "
        f"key sk_live_51Hx9vQ2eZvKYlo2C8fT3bNx, ship to 123 Main St, Springfield, IL 62701"
    )
    started = time.process_time()
    masked = mask_text(text)
    assert time.process_time() - started < BOUND
    assert masked == (
        f"Call +1-***-***-0142 or m***@gmail.com. {middle} Card **** **** **** 1111, "
        f"key sk***...***bNx, ship to 123 Main St, [CITY MASKED]"
    )
