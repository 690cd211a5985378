"""Hypothesis properties of what reads a person's or a provider's input: phone numbers and email
addresses, Twilio's webhook forms, the chat socket's frames, email brief preferences, and the
reading of a message (the router and the request understanding).

Each: any input gives a result in the documented domain or the documented error, never another
exception; normalising twice is normalising once; what is valid survives a round trip.
"""

from __future__ import annotations

import json
import re
import time
import zoneinfo
from datetime import date
from datetime import time as time_of_day
from typing import Any
from urllib.parse import urlencode

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.router import AGENTS, RouteContext, RouteDecision, get_classifier, route
from agents.understanding import Intent, Named, Names, Request, understand
from channels_app.chat import protocol as p
from channels_app.chat.consumer import FRAMES, Frame, FrameError, frame_parse, max_frame_chars
from channels_app.email.api import PreferencesInputSerializer
from channels_app.email.models import DigestFormat, Frequency, Priority, Section
from channels_app.whatsapp.transport import MAX_MEDIA
from channels_app.whatsapp.views import StatusCallbackView, WebhookView
from privacy.normalize import normalize_email, normalize_phone

# Bounded: the whole module runs in seconds. Nothing is kept between runs.
BOUNDED = settings(max_examples=150, deadline=None, database=None)

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


# Phone numbers and email addresses (privacy/normalize.py)

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
# What people and providers put around and inside a number.
SEPARATORS = st.sampled_from([" ", "-", ".", "", "  "])
PREFIXES = st.sampled_from(["", "whatsapp:", "WhatsApp:", "tel:", "sms:", " "])


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid number (one of libphonenumber's examples) in E.164, and a way to write it."""
    region = draw(st.sampled_from(REGIONS))
    number = phonenumbers.example_number(region)
    if number is None:
        number = phonenumbers.example_number("US")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = e164[1:]
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    written = "+" + "".join(part + draw(SEPARATORS) for part in parts[:-1]) + parts[-1]
    return e164, draw(PREFIXES) + written + draw(st.sampled_from(["", " ", "\n"]))


@BOUNDED
@given(st.text(max_size=300))
@example("+1 (415) 555-0101")
@example("whatsapp:")
@example("+" + "9" * 300)
def test_a_phone_number_is_e164_or_a_validation_error(raw: str) -> None:
    try:
        normalized = normalize_phone(raw)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)
        return
    assert E164.match(normalized)
    assert normalize_phone(normalized) == normalized
    assert normalize_phone("whatsapp:" + normalized) == normalized


@BOUNDED
@given(written_numbers())
def test_every_written_form_of_a_number_normalises_to_its_e164(case: tuple[str, str]) -> None:
    e164, written = case
    assert normalize_phone(written) == e164


@BOUNDED
@given(st.text(max_size=100))
def test_normalising_an_email_twice_is_normalising_it_once(raw: str) -> None:
    normalized = normalize_email(raw)
    assert normalize_email(normalized) == normalized
    assert normalized == normalized.strip()
    assert normalized == normalized.lower()


# Twilio's webhook forms (channels_app/whatsapp/views.py)

FORM_TEXT = st.text(max_size=80)
WEBHOOK_FIELDS = ["From", "To", "Body", "MessageSid", "NumMedia", "ProfileName"]
MEDIA_FIELDS = [f"{kind}{n}" for n in range(12) for kind in ("MediaUrl", "MediaContentType")]


def as_posted(form: dict[str, str]) -> QueryDict:
    """The form as the view's FormParser gives it: encoded and parsed again."""
    return QueryDict(urlencode(form), encoding="utf-8")


@BOUNDED
@given(
    st.dictionaries(
        st.sampled_from(WEBHOOK_FIELDS + MEDIA_FIELDS) | FORM_TEXT,
        FORM_TEXT | st.integers(-5, 30).map(str),
        max_size=12,
    )
)
@example({"From": "whatsapp:+14155550101", "MessageSid": "SM1", "NumMedia": "99"})
def test_a_webhook_form_is_read_or_refused_by_field(form: dict[str, str]) -> None:
    serializer = WebhookView.WhatsAppWebhookInputSerializer(data=as_posted(form))
    if not serializer.is_valid():
        assert serializer.errors
        assert all(isinstance(name, str) for name in serializer.errors)
        return
    data = serializer.validated_data
    assert 0 < len(data["From"]) <= 64
    assert 0 < len(data["MessageSid"]) <= 64
    assert data["NumMedia"] >= 0
    assert "ProfileName" not in data  # a person's name is never kept
    assert len(data["media"]) <= min(data["NumMedia"], MAX_MEDIA)
    assert all(media.url for media in data["media"])


@BOUNDED
@given(
    st.dictionaries(
        st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode"]) | FORM_TEXT,
        FORM_TEXT,
        max_size=6,
    )
)
def test_a_status_callback_form_is_read_or_refused_by_field(form: dict[str, str]) -> None:
    serializer = StatusCallbackView.WhatsAppStatusInputSerializer(data=as_posted(form))
    if serializer.is_valid():
        assert 0 < len(serializer.validated_data["MessageSid"]) <= 64
        assert 0 < len(serializer.validated_data["MessageStatus"]) <= 32
    else:
        assert serializer.errors


# The chat socket's frames (channels_app/chat/consumer.py)


def assert_error_frame(error: FrameError) -> None:
    frame = error.frame
    assert frame["event"] == p.ERROR
    assert isinstance(frame["error"], str) and frame["error"]
    assert isinstance(frame["detail"], str) and frame["detail"]
    json.dumps(frame)  # what the consumer sends back must be sendable


def parse_or_error(text: str | None) -> Frame | None:
    try:
        frame = frame_parse(text)
    except FrameError as error:
        assert_error_frame(error)
        return None
    assert frame.event in p.CLIENT_EVENTS
    assert frame.data["conversation_id"] >= 1
    return frame


@BOUNDED
@given(st.text(max_size=200))
@example("")
@example("[" * 5_000)  # within the size limit, deeper than the JSON parser recurses
@example('{"event": "send_message", "conversation_id": 1e400}')
@example('{"event": "send_message", "conversation_id": ' + "9" * 5_000 + "}")
@example("x" * 40_000)
def test_any_text_frame_is_a_frame_or_an_error_frame(text: str) -> None:
    parse_or_error(text)


@BOUNDED
@given(
    st.fixed_dictionaries(
        {"event": st.sampled_from([*FRAMES, "nope"]) | st.text(max_size=5)},
        optional={
            "conversation_id": JSON | st.integers(),
            "client_id": JSON | st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
            "message": JSON | st.text(max_size=50),
            "agent_type": JSON | st.sampled_from(AGENTS),
            "after": JSON,
            "is_typing": JSON,
            "message_id": JSON | st.integers(),
        },
    )
)
def test_any_json_frame_is_a_frame_or_an_error_frame(content: dict[str, Any]) -> None:
    parse_or_error(json.dumps(content))


def test_a_binary_frame_is_an_error_frame() -> None:
    with pytest.raises(FrameError) as refused:
        frame_parse(None)
    assert refused.value.frame["error"] == "invalid"


def test_a_frame_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(FrameError) as refused:
        frame_parse(" " * (max_frame_chars() + 1))
    assert refused.value.frame["error"] == "too_large"


@BOUNDED
@given(
    conversation_id=st.integers(1, 2**31),
    client_id=st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
    # Any text but NUL, which no text field takes (Django's ProhibitNullCharactersValidator),
    # and lone surrogates, which are no text at all (not encodable in UTF-8: refused, rightly).
    message=st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
        min_size=1,
        max_size=300,
    ).filter(str.strip),
)
def test_a_valid_send_frame_reads_back_as_sent(
    conversation_id: int, client_id: str, message: str
) -> None:
    sent = {
        "event": p.SEND,
        "conversation_id": conversation_id,
        "client_id": client_id,
        "message": message,
    }
    frame = frame_parse(json.dumps(sent))
    assert frame == Frame(
        event=p.SEND,
        data={"conversation_id": conversation_id, "client_id": client_id, "message": message},
        client_id=client_id,
    )


# Email brief preferences (channels_app/email/api.py)

PREFERENCE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "enabled": st.booleans() | JSON,
    "delivery_time": st.from_regex(r"[0-9]{1,2}:[0-9]{2}", fullmatch=True) | JSON,
    "timezone": st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Mars/Base"]) | JSON,
    "frequency": st.sampled_from(Frequency.values) | JSON,
    "weekday": st.integers(-2, 9) | JSON,
    "custom_days": st.lists(st.integers(-1, 8) | JSON, max_size=8) | JSON,
    "include_sections": st.lists(st.sampled_from(Section.values) | JSON, max_size=6) | JSON,
    "min_priority": st.sampled_from(Priority.values) | JSON,
    "digest_format": st.sampled_from(DigestFormat.values) | JSON,
    "email": st.emails() | JSON,
}


@settings(BOUNDED, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({}, optional=PREFERENCE_VALUES)
    | st.dictionaries(st.text(max_size=10), JSON, max_size=3)
    | JSON
)
def test_preferences_are_read_into_their_domain_or_refused_by_field(data: Any) -> None:
    serializer = PreferencesInputSerializer(data=data)
    if not serializer.is_valid():
        assert serializer.errors
        return
    read = serializer.validated_data
    assert set(read) <= set(PREFERENCE_VALUES)
    if "delivery_time" in read:
        assert isinstance(read["delivery_time"], time_of_day)
    if "timezone" in read:
        assert read["timezone"] in zoneinfo.available_timezones()
    for name, choices in [
        ("frequency", Frequency),
        ("min_priority", Priority),
        ("digest_format", DigestFormat),
    ]:
        if name in read:
            assert read[name] in choices.values
    if read.get("weekday") is not None:
        assert 0 <= read["weekday"] <= 6
    if "custom_days" in read:
        assert read["custom_days"] == sorted(set(read["custom_days"]))
        assert all(0 <= day <= 6 for day in read["custom_days"])
    if "include_sections" in read:
        assert read["include_sections"] == [
            s for s in Section.values if s in read["include_sections"]
        ]
    # What was read reads again the same (the round trip of a settings page).
    again = {
        **read,
        **(
            {"delivery_time": read["delivery_time"].strftime("%H:%M")}
            if "delivery_time" in read
            else {}
        ),
    }
    second = PreferencesInputSerializer(data=again)
    assert second.is_valid(), second.errors
    assert second.validated_data == read


# Reading a person's message: the router and the request understanding (agents/)

# A generous bound on this process's CPU time (not the wall clock, which a busy machine or a
# garbage collection stretches): each takes about a millisecond; this only catches a blow-up,
# such as a pattern that backtracks over a 4,000-character message.
SECONDS_PER_MESSAGE = 2.0
NAMES = Names(
    campaigns=(
        Named(
            id=1, name="Summer Sale 2025", kind="campaign", platform="google_ads", status="active"
        ),
        Named(id=2, name="Brand Awareness", kind="campaign", platform="meta", status="paused"),
    ),
    content=(
        Named(id=3, name="Spring newsletter", kind="content", platform="email", status="draft"),
    ),
    segments=(Named(id=4, name="Returning buyers", kind="segment"),),
)
# The words the understanding looks for, for sentences that reach past its first checks.
WORDS = (
    "raise lower pause the budget to $50 per day on summer sale google meta campaign how many "
    "clicks yesterday last week this month ROAS CTR write a post about spring newsletter "
    "returning buyers yes no 2 the second one and a human please % 120"
)
MESSAGES = st.text(max_size=400) | st.lists(st.sampled_from(WORDS.split(" ")), max_size=25).map(
    " ".join
)


@BOUNDED
@given(MESSAGES, st.sampled_from([None, *AGENTS]))
@example("a" * 4_000, None)
@example("$" * 4_000, None)
def test_any_message_routes_to_an_agent_quickly(message: str, current: str | None) -> None:
    get_classifier()  # trained once per process, on first use: not part of a message's time
    started = time.process_time()
    try:
        decision = route(message, RouteContext(current_agent=current))
    except ValueError:
        assert not message.strip()  # the one documented refusal: nothing to route
        return
    assert time.process_time() - started < SECONDS_PER_MESSAGE
    assert isinstance(decision, RouteDecision)
    assert decision.agent_type in AGENTS
    assert 0.0 <= decision.confidence <= 1.0
    assert decision.reason in ("explicit", "follow_up", "classifier", "default")


@BOUNDED
@given(MESSAGES, MESSAGES, st.sampled_from([None, *AGENTS]))
@example("1" * 4_000, "", None)
@example("raise " * 700, "yes", None)
def test_any_message_is_understood_quickly(
    first: str, follow_up: str, agent_type: str | None
) -> None:
    previous: Request | None = None
    for text in (first, follow_up):
        started = time.process_time()
        request = understand(
            text, names=NAMES, today=date(2026, 6, 15), previous=previous, agent_type=agent_type
        )
        assert time.process_time() - started < SECONDS_PER_MESSAGE
        assert isinstance(request, Request)
        assert request.intent in Intent
        json.dumps(request.as_dict())  # what a Langflow flow gets as context
        previous = request
