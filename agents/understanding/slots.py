"""The smaller slots: metric, platform and channel, content kind, topic.

Each reads the message with names and the period already blanked, so a campaign called
"Spring Sales" does not make a revenue question, nor "At-Risk Subscribers" a churn one.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from agents.types import AgentType
from agents.understanding.text import words
from agents.understanding.vocabulary import AD_PLATFORMS, CHANNELS, CONTENT_KINDS

# (pattern, metric). The metric named first in the message wins; where two start together,
# the longer ("cost per acquisition" over "cost").
METRICS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\broas\b|\breturn on (?:ad )?spend\b|\broi\b|\breturn on investment\b"), "roas"),
    (
        re.compile(
            r"\bcpa\b|\bcost per (?:acquisition|conversion|sale|purchase|order|customer|lead"
            r"|result)s?\b|\bacquisition costs?\b|\bcost of acquisition\b"
        ),
        "cpa",
    ),
    (re.compile(r"\bctr\b|\bclick[- ]?through(?: rates?)?\b"), "ctr"),
    (re.compile(r"\bltv\b|\bclv\b|\b(?:customer )?lifetime value\b"), "ltv"),
    (
        re.compile(r"\bchurn\w*|\brisk of (?:leaving|churn\w*)\b|\bat[- ]risk\b|\bretention\b"),
        "churn",
    ),
    (
        re.compile(
            r"\bhow (?:big|large)\b|\bsizes?\b|\bhow many (?:people|members|customers|users"
            r"|subscribers|contacts|buyers)\b|\bnumber of (?:people|members|customers|users"
            r"|subscribers|contacts|buyers)\b"
        ),
        "size",
    ),
    (
        re.compile(
            r"\bspen[dt]\w*|\bcosts?\b|\bexpenses?\b|\bhow much did (?:we|i) pay\b"
            r"|\bcost us\b"
        ),
        "spend",
    ),
    (
        re.compile(
            r"\brevenue\b|\bsales\b|\bincome\b|\bturnover\b|\bearn(?:ed|ings)?\b"
            r"|\bhow much (?:did|have) (?:we|i) (?:make|made|bring in)\b"
        ),
        "revenue",
    ),
    (
        re.compile(
            r"\bconversions?\b|\bconverted\b|\bconverting\b|\bpurchases?\b|\borders\b"
            r"|\bsign[- ]?ups?\b|\bleads\b"
            # Sales counted are conversions, not revenue: "how many sales did we get?"
            r"|\bhow many (?:sales|orders|purchases)\b|\bnumber of (?:sales|orders)\b"
        ),
        "conversions",
    ),
    (
        # Not "rank" the verb: "rank my campaigns by ROAS" asks for ROAS.
        re.compile(
            r"\brank(?!\s+(?:my|our|the|all|them|these|those|campaigns?|ads|by)\b)\w*"
            r"|\bpositions?\b|\bkeywords?\b|\bserps?\b"
        ),
        "rankings",
    ),
    (
        re.compile(r"\btraffic\b|\bvisits?\b|\bvisitors?\b|\bsessions?\b|\bpage ?views\b"),
        "traffic",
    ),
    (
        re.compile(r"\bengag\w*|\blikes\b|\bcomments\b|\bshares\b|\binteractions\b|\breactions\b"),
        "engagement",
    ),
    (re.compile(r"\bbudgets?\b"), "budget"),
]
# What some words mean to one agent and not to the others.
AGENT_METRICS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    AgentType.SEO: [
        (re.compile(r"\bclicks\b"), "traffic"),
        (re.compile(r"\bvisibility\b|\bwhere (?:do|does|are) (?:we|i|it)\b"), "rankings"),
    ],
    AgentType.CONTENT: [(re.compile(r"\bperform\w*|\bresonat\w*|\breach\b"), "engagement")],
    AgentType.AUDIENCE: [
        (re.compile(r"\bhow many\b"), "size"),
        (re.compile(r"\bvalue\b|\bvaluable\b|\bworth\b"), "ltv"),
    ],
}


# Misspelt metric and platform words are read as the word ("spned", "tiktk", "linkdin"): one
# edit from a long word; for "spend" only two letters swapped, as "speed" is a word of its own.
METRIC_WORDS = (
    "spend",
    "revenue",
    "conversions",
    "conversion",
    "impressions",
    "engagement",
    "rankings",
    "traffic",
)
PLATFORM_SPELLINGS = tuple(
    dict.fromkeys(word for word in (*AD_PLATFORMS, *CHANNELS) if len(word) >= 6)
)
_LETTERS = re.compile(r"[a-z]+")


def spelt(word: str, targets: tuple[str, ...]) -> str:
    """The target a word misspells, else the word."""
    if len(word) < 5 or word in targets:
        return word
    for target in targets:
        if word[0] != target[0] or word.startswith(target):
            continue  # "googled" is a word of its own
        if DamerauLevenshtein.distance(word, target) != 1:
            continue
        if len(target) >= 6 or Levenshtein.distance(word, target) == 2:
            return target
    return word


def _respelt(text: str, targets: tuple[str, ...]) -> str:
    return _LETTERS.sub(lambda match: spelt(match.group(), targets), text)


def find_metric(text: str, agent_type: str | None) -> str | None:
    text = _respelt(text, METRIC_WORDS)
    patterns = METRICS + AGENT_METRICS.get(agent_type or "", [])
    found = [
        (match.start(), -(match.end() - match.start()), metric)
        for pattern, metric in patterns
        for match in pattern.finditer(text)
    ]
    return min(found)[2] if found else None


def find_platforms(text: str, agent_type: str | None) -> tuple[str | None, str | None]:
    """The ad platform and the content channel the message names (the first of each). To the
    SEO agent "google" is the search engine, not Google Ads."""
    said = words(text.replace("tik tok", "tiktok").replace("tik-tok", "tiktok"))
    said = [spelt(word, PLATFORM_SPELLINGS) for word in said]
    platform: str | None = None
    channel: str | None = None
    for index, word in enumerate(said):
        following = said[index + 1] if index + 1 < len(said) else ""
        if platform is None and word in AD_PLATFORMS:
            ads_named = following in ("ads", "ad", "adwords") or word == "adwords"
            if not (word == "google" and agent_type == AgentType.SEO and not ads_named):
                platform = AD_PLATFORMS[word]
        if channel is None and word in CHANNELS:
            channel = CHANNELS[word]
    return platform, channel


_KIND = re.compile(
    r"\b(?P<kind>" + "|".join(re.escape(words) for words, _ in CONTENT_KINDS) + r")\b"
)
KINDS = dict(CONTENT_KINDS)
KIND_CHANNELS = {"blog": "blog", "email": "email"}


def find_kind(text: str) -> str | None:
    """The first content kind named: "an outline for a blog post" is an outline."""
    match = _KIND.search(text)
    return KINDS[match.group("kind")] if match else None


# Topics follow these words, strongest first: "posts for Instagram about our sale".
TOPIC_LEADS = [
    r"about|regarding|covering|on the topic of|around the topic of",
    r"on|around|promoting|announcing|featuring|to promote|to announce|introducing",
    r"for",
]
TOPIC_END = re.compile(
    r"[.?!;,:]|\s(?:on|for|in|via|across)\s+(?:instagram|facebook|fb|tiktok|linkedin|twitter|"
    r"x|the blog|our blog|email|meta|google)\b|\s(?:please|with|that|which|using|in \d+ words"
    r"|in (?:a|an) \w+ (?:tone|voice|style)|(?:for|by|before) (?:next|tomorrow|tonight)"
    r"|next (?:week|month))\b"
)
DETERMINERS = re.compile(r"^(?:(?:our|the|a|an|my|this|that|these|those|some|your)\s+)+")
NOT_TOPICS = frozenset(CHANNELS) | frozenset(AD_PLATFORMS) | {"me", "us", "you", "it", "them"}


def find_topic(text: str) -> str | None:
    """ "Write 3 posts about our winter sale" -> "winter sale": after "about" (or "on", or
    "for"), up to a channel, a style or the end; without "our/the/a"."""
    for leads in TOPIC_LEADS:
        for match in re.finditer(rf"\b(?:{leads})\s+(?P<rest>.+)", text):
            topic = _trimmed(match.group("rest"))
            if topic and not _is_kind_or_channel(topic):
                return topic
    return None


def _trimmed(rest: str) -> str:
    end = TOPIC_END.search(rest)
    topic = rest[: end.start()] if end else rest
    topic = DETERMINERS.sub("", topic.strip())
    return " ".join(topic.split()).strip(" '\"-")


def _is_kind_or_channel(topic: str) -> bool:
    """ "for Instagram", "for a blog post on ...": not topics, the lead after may be."""
    first = topic.split()[0]
    return first in NOT_TOPICS or first in KINDS or _KIND.match(topic) is not None
