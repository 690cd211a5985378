"""One message on its own: intent and slots, read in an order that keeps slots apart.

Names written in full go first, then the period, then loose names, then amounts: each blanks
what it took (text.py), so "Lookalike 1%" is a name and not a percentage, "Nov 3" a date and not
a count, and the months in a campaign's name are not a period.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from agents.types import AgentType
from agents.understanding.amounts import find_amount, find_count
from agents.understanding.intent import Action, read_action
from agents.understanding.names import ANCHORS, Matcher, Mention
from agents.understanding.periods import find_before, find_period
from agents.understanding.request import (
    CAMPAIGN_VERBS,
    Intent,
    Named,
    NameMatch,
    Names,
    Request,
    Verb,
)
from agents.understanding.slots import (
    KIND_CHANNELS,
    find_kind,
    find_metric,
    find_platforms,
    find_topic,
)
from agents.understanding.text import Text, words
from agents.understanding.vocabulary import (
    ALWAYS_OFF_TOPIC,
    BRIEFING,
    FILLERS,
    FUNCTION,
    JUDGING,
    MARKETING,
    NOISE,
    PERFORMANCE_SMALL_TALK,
    PLATFORM_WORDS,
    TIME_WORDS,
    USUALLY_OFF_TOPIC,
    wordset,
)

# Agents whose questions are rarely about one campaign: there a campaign must be named next to
# "campaign" or a verb, not only mentioned in passing.
NOT_ABOUT_CAMPAIGNS = {AgentType.SEO, AgentType.CONTENT, AgentType.AUDIENCE}
NOT_ABOUT_SEGMENTS = {AgentType.SEO, AgentType.CONTENT}
CONTENT_WORDS = wordset("draft drafts article articles blog post posts caption captions")
MARKETING_VERBS = {Verb.PAUSE, Verb.RESUME, Verb.PUBLISH, Verb.EXPORT}
# Opens a follow-up: "and on TikTok?", "what about last month?", "same for Meta", "now make
# them for LinkedIn".
FOLLOW_LEAD = re.compile(
    r"^(?:(?:ok|okay|thanks|great|cool|so|now)[\s,]+)*"
    r"(?:and|what about|how about|same (?:for|with|but|thing for)|what of|now for|also for"
    r"|(?:make|do|write) (?:it|them|that|those|the same|one|some)(?: again)? (?:for|on))\b"
)
# Words that refer back to what the last message was about.
BACK_WORDS = frozenset({"it", "its", "them"})
BACK_PHRASES = re.compile(
    r"\b(?:that|this|the same) (?:one|campaign|segment|draft|post|audience)\b"
    r"|\bthe (?:campaign|segment|draft|budget)\b"
)
HOW_IT_DID = re.compile(
    r"\bhow (?:is|was|did|does|are|were|has|have) (?:it|they|that|that one|this one)"
    r"(?: been)? (?:do|doing|done|perform\w*|go|going|gone|look\w*)\b"
)
# What may be left of a message that only states slots ("the lookalike one", "last month?").
SLOT_GLUE = FILLERS | FUNCTION | NOISE | PLATFORM_WORDS | TIME_WORDS | JUDGING | {"one"}


@dataclass(frozen=True)
class Reading:
    """A message read on its own, with what turns.py needs to link it to the previous one.
    Its request keeps the slots even when out of scope: "and last month?" is out of scope
    alone, and a follow-up in a conversation."""

    request: Request
    number: int | None = None  # a number left over: "and 2 for TikTok" after "write 3 posts"
    said_platform: str | None = None  # the ad platform a platform word names
    said_channel: str | None = None  # the channel the same word names, for content
    own_ask: bool = False  # a verb, a content request or a metric of its own
    leads: bool = False  # opens as a follow-up
    slots_only: bool = False  # nothing but slots: "TikTok?", "the lookalike one"
    refers_back: bool = False  # "it", "that campaign", "the budget"
    # "how did it do?": out of scope alone ("how is it going?"), a question after a campaign
    asks_how_it_did: bool = False


def prefer_for(verb: Verb | None) -> Callable[[tuple[Named, ...]], tuple[Named, ...]]:
    """Among equally plausible names, keep those the verb can act on (paused campaigns for a
    resume, active ones for a pause, drafts for a publish), unless that leaves none."""
    wanted: set[str] | None = None
    if verb == Verb.PAUSE:
        wanted = {"active"}
    elif verb == Verb.RESUME:
        wanted = {"paused"}
    elif verb in (Verb.RAISE, Verb.LOWER, Verb.SET):
        wanted = {"active", "paused"}
    elif verb == Verb.PUBLISH:
        wanted = {"draft", "scheduled"}

    def prefer(rows: tuple[Named, ...]) -> tuple[Named, ...]:
        if wanted is None:
            return rows
        kept = tuple(row for row in rows if row.status in wanted)
        return kept or rows

    return prefer


def by_platform(
    rows: tuple[Named, ...], platform: str, verb: Verb | None, asked: str = ""
) -> NameMatch | None:
    """The campaigns of a platform as the candidates ("pause my TikTok campaign")."""
    on_platform = prefer_for(verb)(tuple(row for row in rows if row.platform == platform))
    if not on_platform:
        return None
    if len(on_platform) == 1:
        return NameMatch(found=on_platform[0], candidates=(), asked=asked, suggestion=None)
    return NameMatch(found=None, candidates=on_platform, asked=asked, suggestion=None)


def read(
    raw: str, *, names: Names, today: date, agent_type: str | None, earlier: Request | None
) -> Reading:
    """Read one message without the conversation (except to prefer the names the previous
    message left as candidates)."""
    text = Text(raw)
    action = read_action(raw)
    everything = (*names.campaigns, *names.content, *names.segments)
    matchers = _matchers(names, everything, action, agent_type)
    mentions: dict[str, Mention] = {}
    for kind, matcher in matchers.items():
        mention = matcher.exact(text)
        if mention is not None and not _another_kinds_noun(text, mention, kind):
            mentions[kind] = mention
            _blank(text, mention)
    found_period = find_period(text.masked, today)
    if found_period is None and earlier is not None and earlier.period is not None:
        found_period = find_before(text.masked, earlier.period, today)
    if found_period is not None:
        text.mask(found_period.start, found_period.end)
    said_platform, said_channel = find_platforms(text.masked, agent_type)
    fuzzy = _fuzzy(text, matchers, mentions, action, said_platform, earlier)
    for kind, mention in fuzzy.items():
        mentions[kind] = mention
        _blank(text, mention)
    said = words(text.masked)
    found_amount = find_amount(text.masked, action.verb, "budget" in said)
    if found_amount is not None:
        text.mask(found_amount.start, found_amount.end)
    if action.verb_start is not None and action.verb_end is not None:
        text.mask(action.verb_start, action.verb_end)  # "post the draft" names no kind
    metric = find_metric(text.masked, agent_type)
    intent = _intent(text, action, metric, mentions, said_platform, found_amount is not None)
    content_kind = find_kind(text.masked)
    content_context = (
        intent == Intent.CONTENT
        or action.verb == Verb.PUBLISH
        or agent_type == AgentType.CONTENT
        or bool(CONTENT_WORDS & set(said))
    )
    campaign = _campaign(mentions.get("campaign"), names, action.verb, said_platform)
    platform = said_platform
    if campaign and campaign.found:
        platform = campaign.found.platform
    elif campaign and campaign.candidates:
        platforms = {row.platform for row in campaign.candidates}
        platform = platforms.pop() if len(platforms) == 1 else said_platform
    channel: str | None = None
    if content_context:
        channel = said_channel or KIND_CHANNELS.get(content_kind or "")
        if content_kind != "ad" and not campaign:
            platform = None
    topic_text = text.lowered
    if found_period is not None:
        blank = " " * (found_period.end - found_period.start)
        topic_text = topic_text[: found_period.start] + blank + topic_text[found_period.end :]
    content = _match(mentions.get("content"))
    if content is not None and content.candidates and channel:
        content = _on_channel(content, channel)
    request = Request(
        text=raw,
        intent=intent,
        verb=action.verb if intent == Intent.COMMAND else None,
        campaign=campaign,
        platform=platform,
        metric=metric,
        period=found_period.period if found_period else None,
        amount=found_amount.amount if found_amount else None,
        content=content,
        segment=_match(mentions.get("segment")),
        count=find_count(text.masked),
        content_kind=content_kind if content_context else None,
        channel=channel,
        topic=find_topic(topic_text) if content_context and intent != Intent.COMMAND else None,
        confirm=action.affirmed and intent == Intent.COMMAND,
    )
    lowered = text.lowered.strip()
    numbers = [word for word in said if word.isdecimal()]
    return Reading(
        request=request,
        number=int(numbers[0]) if numbers and len(numbers[0]) <= 3 else None,
        said_platform=said_platform,
        said_channel=said_channel,
        own_ask=bool(action.verb or action.content or metric),
        leads=bool(FOLLOW_LEAD.match(lowered)),
        slots_only=not [word for word in said if word not in SLOT_GLUE],
        refers_back=bool(BACK_WORDS & set(words(raw)) or BACK_PHRASES.search(lowered)),
        asks_how_it_did=bool(HOW_IT_DID.search(lowered)),
    )


def _matchers(
    names: Names, everything: tuple[Named, ...], action: Action, agent_type: str | None
) -> dict[str, Matcher]:
    prefer = prefer_for(action.verb)
    return {
        "campaign": Matcher(
            "campaign",
            names.campaigns,
            everything,
            # Content is asked "for our spring collection": a topic, not a campaign.
            unanchored=agent_type not in NOT_ABOUT_CAMPAIGNS and not action.content,
            prefer=prefer,
        ),
        "segment": Matcher(
            "segment",
            names.segments,
            everything,
            unanchored=agent_type not in NOT_ABOUT_SEGMENTS,
            prefer=prefer,
        ),
        "content": Matcher(
            "content",
            names.content,
            everything,
            unanchored=agent_type == AgentType.CONTENT,
            prefer=prefer,
        ),
    }


def _fuzzy(
    text: Text,
    matchers: dict[str, Matcher],
    exact: dict[str, Mention],
    action: Action,
    platform: str | None,
    earlier: Request | None,
) -> dict[str, Mention]:
    """Loose names, each kind on its own; where two kinds claim the same words, the one
    anchored by its own noun or verb keeps them, else the better match."""
    verb_kinds = {"content": {Verb.PUBLISH}, "segment": {Verb.EXPORT}, "campaign": CAMPAIGN_VERBS}
    found: dict[str, Mention] = {}
    for kind, matcher in matchers.items():
        if kind in exact or (kind == "content" and action.content):
            continue
        verb_end = action.verb_end if action.verb in verb_kinds[kind] else None
        for pool, answering in _pools(kind, matcher, platform, earlier):
            mention = matcher.fuzzy(text, verb_end, pool, answering=answering)
            if mention is not None and (mention.match.found or mention.match.candidates):
                break
        if mention is not None:
            found[kind] = mention
    for kind, mention in list(found.items()):
        for other, rival in found.items():
            if other != kind and _overlap(mention, rival) and _beats(rival, mention):
                del found[kind]
                break
    return found


def _pools(
    kind: str, matcher: Matcher, platform: str | None, earlier: Request | None
) -> list[tuple[tuple[Named, ...] | None, bool]]:
    """Where to look, narrowest first: the candidates the previous message left (this one
    may answer "which one?"), the platform's campaigns, then all."""
    pools: list[tuple[tuple[Named, ...] | None, bool]] = []
    previous = getattr(earlier, kind, None) if earlier else None
    if isinstance(previous, NameMatch) and previous.candidates:
        pools.append((previous.candidates, True))
    if kind == "campaign" and platform:
        pools.append((tuple(row for row in matcher.rows if row.platform == platform), False))
    pools.append((None, False))
    return pools


def _another_kinds_noun(text: Text, mention: Mention, kind: str) -> bool:
    """ "the trail runners campaign": a segment's name followed by "campaign" is a campaign's
    loose name, left to the fuzzy match."""
    end = max(span_end for _, span_end in mention.spans)
    following = next((token.word for token in text.tokens() if token.start >= end), None)
    if following is None or following in ANCHORS[kind]:
        return False
    return any(following in nouns for other, nouns in ANCHORS.items() if other != kind)


def _on_channel(match: NameMatch, channel: str) -> NameMatch:
    """Of equally named pieces, those on the channel asked ("the summit gtx email")."""
    kept = tuple(row for row in match.candidates if row.platform == channel)
    if len(kept) == 1:
        return NameMatch(found=kept[0], candidates=(), asked=match.asked, suggestion=None)
    return NameMatch(
        found=None,
        candidates=kept or match.candidates,
        asked=match.asked,
        suggestion=match.suggestion,
    )


def _overlap(one: Mention, other: Mention) -> bool:
    return any(a < d and c < b for a, b in one.spans for c, d in other.spans)


def _beats(rival: Mention, mention: Mention) -> bool:
    if rival.anchored != mention.anchored:
        return rival.anchored
    return rival.score > mention.score


def _blank(text: Text, mention: Mention) -> None:
    for start, end in mention.spans:
        text.mask(start, end)


def _match(mention: Mention | None) -> NameMatch | None:
    return mention.match if mention else None


def _campaign(
    mention: Mention | None, names: Names, verb: Verb | None, platform: str | None
) -> NameMatch | None:
    """The campaign named; for a verb that needs one and a platform alone, its campaigns."""
    match = _match(mention)
    if match is None and verb in CAMPAIGN_VERBS and platform:
        return by_platform(names.campaigns, platform, verb)
    return match


def _intent(
    text: Text,
    action: Action,
    metric: str | None,
    mentions: dict[str, Mention],
    platform: str | None,
    amount: bool,
) -> Intent:
    lowered = text.lowered
    named = any(m.match.found or m.match.candidates for m in mentions.values())
    if ALWAYS_OFF_TOPIC.search(lowered):
        return Intent.OUT_OF_SCOPE
    asks = bool(action.verb or action.content)
    if USUALLY_OFF_TOPIC.search(lowered) and not (asks or metric or named):
        return Intent.OUT_OF_SCOPE
    in_scope = bool(
        MARKETING.search(lowered)
        or PERFORMANCE_SMALL_TALK.search(lowered)
        or BRIEFING.search(lowered)
        or metric
        or named
        or platform
        or amount
        # These verbs are about campaigns, content or segments whatever follows; "change" and
        # "set" need a marketing word ("change the subject" is not a command).
        or action.verb in MARKETING_VERBS
    )
    refers = bool(BACK_WORDS & set(words(lowered)))
    if action.verb and (in_scope or refers):
        return Intent.COMMAND
    if action.content:
        return Intent.CONTENT
    return Intent.QUESTION if in_scope else Intent.OUT_OF_SCOPE
