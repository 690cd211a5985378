"""Linking a message to the previous one: follow-ups, confirmations and choices.

`previous` is the Request of the previous user message, its own inheritance already applied,
so a chain of follow-ups ("and on TikTok?", "and last month?") carries everything forward one
step at a time.
"""

from __future__ import annotations

from dataclasses import replace

from agents.understanding.intent import LAST
from agents.understanding.parse import Reading, by_platform
from agents.understanding.request import CAMPAIGN_VERBS, Intent, NameMatch, Names, Request, Verb

KINDS = ("campaign", "content", "segment")


def confirmed(text: str, previous: Request | None) -> Request:
    """ "do it", "yes", "go ahead": agreeing to the last suggestion, which the caller knows."""
    if previous is None:
        return Request(text=text, intent=Intent.COMMAND, confirm=True)
    return replace(
        previous, text=text, intent=Intent.COMMAND, confirm=True, follow_up=True, choice=None
    )


def chosen(text: str, choice: int, previous: Request | None) -> Request | None:
    """ "the second one": completes the previous request with its second candidate. Without
    candidates the number is kept for the caller (the agent may have listed options); None
    when "the last one" has nothing to be the last of."""
    if previous is None or previous.intent == Intent.OUT_OF_SCOPE:
        return None if choice == LAST else Request(text, Intent.QUESTION, choice=choice)
    for kind in KINDS:
        match: NameMatch | None = getattr(previous, kind)
        if match is None or not match.candidates:
            continue
        number = len(match.candidates) if choice == LAST else choice
        if not 1 <= number <= len(match.candidates):
            return replace(previous, text=text, follow_up=True, confirm=False, choice=number)
        picked = match.candidates[number - 1]
        completed = NameMatch(found=picked, candidates=(), asked=match.asked, suggestion=None)
        request = replace(previous, text=text, follow_up=True, confirm=False, choice=number)
        return with_match(request, kind, completed)
    if choice == LAST:
        return None
    return replace(previous, text=text, follow_up=True, confirm=False, choice=choice)


def linked(reading: Reading, previous: Request | None, names: Names) -> Request:
    """The request a message makes in the conversation: on its own, completing the previous
    one, following it up, or referring back to what it was about."""
    fresh = reading.request
    if previous is None or previous.intent == Intent.OUT_OF_SCOPE:
        return alone(fresh)
    if not reading.own_ask and _completes(fresh, previous):
        return _complete(fresh, previous)
    if reading.leads or (reading.slots_only and _has_slots(fresh, reading)):
        return _follow(reading, previous, names)
    if reading.refers_back and fresh.intent != Intent.OUT_OF_SCOPE:
        return _refer_back(fresh, previous)
    if reading.asks_how_it_did and _about_something(previous):
        return _refer_back(replace(fresh, intent=Intent.QUESTION), previous)
    return alone(fresh)


def _about_something(request: Request) -> bool:
    return any(
        match is not None and match.found is not None
        for match in (request.campaign, request.content, request.segment)
    )


def alone(fresh: Request) -> Request:
    """A message outside the conversation: out of scope, it fills no slot (a joke about last
    night has no period)."""
    if fresh.intent == Intent.OUT_OF_SCOPE:
        return Request(text=fresh.text, intent=Intent.OUT_OF_SCOPE)
    return fresh


def _has_slots(fresh: Request, reading: Reading) -> bool:
    return any(
        (
            reading.said_platform,
            reading.said_channel,
            fresh.period,
            fresh.campaign,
            fresh.segment,
            fresh.content,
            fresh.amount,
            fresh.count,
        )
    )


def _completes(fresh: Request, previous: Request) -> bool:
    """The previous message left candidates and this one names one of that kind."""
    for kind in KINDS:
        before: NameMatch | None = getattr(previous, kind)
        now: NameMatch | None = getattr(fresh, kind)
        if before and before.candidates and now and now.found:
            return True
    return False


def _complete(fresh: Request, previous: Request) -> Request:
    request = replace(
        previous,
        text=fresh.text,
        period=fresh.period or previous.period,
        follow_up=True,
        confirm=False,
        choice=None,
    )
    for kind in KINDS:
        before: NameMatch | None = getattr(previous, kind)
        now: NameMatch | None = getattr(fresh, kind)
        if before and before.candidates and now and now.found:
            request = with_match(request, kind, now)
    return request


def with_match(request: Request, kind: str, match: NameMatch) -> Request:
    """The request with one kind's match replaced; a campaign brings its platform."""
    if kind == "campaign":
        platform = match.found.platform if match.found else request.platform
        return replace(request, campaign=match, platform=platform)
    if kind == "content":
        return replace(request, content=match)
    return replace(request, segment=match)


def _follow(reading: Reading, previous: Request, names: Names) -> Request:
    """Same question (or command) as before, with the slots this message states replacing."""
    fresh = reading.request
    intent = previous.intent
    if fresh.intent in (Intent.COMMAND, Intent.CONTENT):
        intent = fresh.intent
    verb = (fresh.verb or previous.verb) if intent == Intent.COMMAND else None
    content_talk = intent == Intent.CONTENT or bool(previous.channel or previous.content_kind)
    platform, campaign = _platform_and_campaign(reading, previous, names, verb, content_talk)
    channel = (reading.said_channel or previous.channel) if content_talk else previous.channel
    return Request(
        text=fresh.text,
        intent=intent,
        verb=verb,
        campaign=campaign,
        platform=platform,
        metric=fresh.metric or previous.metric,
        period=fresh.period or previous.period,
        amount=fresh.amount or previous.amount,
        content=fresh.content or previous.content,
        segment=fresh.segment or previous.segment,
        count=fresh.count or _count(reading, intent) or previous.count,
        content_kind=fresh.content_kind or previous.content_kind,
        channel=channel,
        topic=fresh.topic or previous.topic,
        follow_up=True,
        confirm=fresh.confirm,
    )


def _count(reading: Reading, intent: Intent) -> int | None:
    """ "and 2 for TikTok" after a content request: the number is how many."""
    return reading.number if intent == Intent.CONTENT else None


def _platform_and_campaign(
    reading: Reading, previous: Request, names: Names, verb: Verb | None, content_talk: bool
) -> tuple[str | None, NameMatch | None]:
    """A campaign named replaces the old one (and its platform); a platform alone keeps the
    old campaign only if it runs there, and for a verb that needs a campaign offers the
    platform's campaigns."""
    fresh = reading.request
    if fresh.campaign is not None:
        return fresh.platform or reading.said_platform, fresh.campaign
    platform = None if content_talk else reading.said_platform
    if platform is None:
        return previous.platform, previous.campaign
    campaign = _on_platform(previous.campaign, platform, verb)
    if campaign is None and verb in CAMPAIGN_VERBS:
        campaign = by_platform(names.campaigns, platform, verb)
    return platform, campaign


def _on_platform(match: NameMatch | None, platform: str, verb: Verb | None) -> NameMatch | None:
    if match is None:
        return None
    if match.found:
        return match if match.found.platform == platform else None
    kept = tuple(row for row in match.candidates if row.platform == platform)
    if not kept:
        return None
    return by_platform(kept, platform, verb, match.asked)


def _refer_back(fresh: Request, previous: Request) -> Request:
    """ "pause it", "how did it do yesterday?": the thing the last message was about, found
    there, for the kinds this message leaves open."""
    kinds: tuple[str, ...] = KINDS
    if fresh.verb in CAMPAIGN_VERBS:
        kinds = ("campaign",)
    elif fresh.verb == Verb.PUBLISH:
        kinds = ("content",)
    elif fresh.verb == Verb.EXPORT:
        kinds = ("segment",)
    request = fresh
    for kind in kinds:
        before: NameMatch | None = getattr(previous, kind)
        if getattr(fresh, kind) is not None or before is None or before.found is None:
            continue
        if kind == "campaign" and fresh.platform and before.found.platform != fresh.platform:
            continue  # "pause it on TikTok" after a Meta campaign: not that one
        request = replace(with_match(request, kind, before), follow_up=True)
    return request
