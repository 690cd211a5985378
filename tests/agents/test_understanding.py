"""The message parser: intents, loose names, periods, amounts, content slots and follow-ups.

Pure: the names are built by hand from the demo data, and today is a fixed Sunday, so every
label and date is exact. Only the last test (names_for) reads the database.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import cast

import pytest

from accounts.models import Tenant
from agents.types import AgentType
from agents.understanding import (
    Amount,
    Intent,
    Named,
    NameMatch,
    Names,
    Period,
    Request,
    Verb,
    names_for,
    period_resolve,
    understand,
)
from tests.agents.factories import AudienceSegmentFactory, CampaignFactory, ContentItemFactory
from tests.factories import TenantFactory

TODAY = date(2026, 12, 6)  # a Sunday: this week is Nov 30 to Dec 6

CAMPAIGN_ROWS = [
    ("meta", "Prospecting - Lookalike 1%", "active"),
    ("meta", "Retargeting - Cart Abandoners", "active"),
    ("meta", "Broad - Spring Collection", "active"),
    ("meta", "Advantage+ Shopping", "active"),
    ("tiktok", "Spark Ads - Creator Reviews", "active"),
    ("tiktok", "In-Feed - Trail Runners", "active"),
    ("tiktok", "TopView - Summer Launch", "paused"),
    ("google_ads", "Search - Brand", "active"),
    ("google_ads", "Shopping - All Products", "active"),
    ("google_ads", "Search - Running Shoes", "active"),
    ("google_ads", "Performance Max - Catch-all", "active"),
    ("linkedin", "Wholesale - Retail Buyers", "active"),
    ("linkedin", "Corporate Gifting - HR Leaders", "active"),
    ("linkedin", "Team Orders - Running Clubs", "active"),
]
NAMES = Names(
    campaigns=tuple(
        Named(id=index, name=name, kind="campaign", platform=platform, status=status)
        for index, (platform, name, status) in enumerate(CAMPAIGN_ROWS, start=1)
    ),
    content=(
        Named(id=101, name="Winter Sale Lookbook", kind="content", status="draft"),
        Named(id=102, name="A day with Acme Run Club", kind="content", status="published"),
        Named(id=103, name="How to choose trail running shoes", kind="content", status="draft"),
    ),
    segments=(
        Named(id=201, name="VIP Customers", kind="segment"),
        Named(id=202, name="At-Risk Subscribers", kind="segment"),
        Named(id=203, name="New Buyers (30 days)", kind="segment"),
    ),
)
META = [
    "Prospecting - Lookalike 1%",
    "Retargeting - Cart Abandoners",
    "Broad - Spring Collection",
    "Advantage+ Shopping",
]


def parse(text: str, previous: Request | None = None, agent_type: str | None = None) -> Request:
    return understand(text, names=NAMES, today=TODAY, previous=previous, agent_type=agent_type)


def conversation(*texts: str, agent_type: str | None = None) -> Request:
    """Each message parsed with the one before as `previous`, as the caller chains them."""
    request: Request | None = None
    for text in texts:
        request = parse(text, request, agent_type)
    assert request is not None
    return request


def found(match: NameMatch | None) -> str | None:
    return match.found.name if match and match.found else None


def candidates(match: NameMatch | None) -> list[str]:
    return [row.name for row in match.candidates] if match else []


# The examples the parser was written for.


def test_a_polite_budget_increase_is_a_command_for_no_campaign_yet() -> None:
    request = parse("Can you increase the budget by $500?")

    assert request.intent == Intent.COMMAND
    assert request.verb == Verb.RAISE
    assert request.amount == Amount(Decimal("500"), "by", per_day=True)
    assert request.campaign is None


def test_a_platform_budget_increase_offers_the_platforms_campaigns() -> None:
    request = parse("Increase my Meta campaign budget by $10,000")

    assert (request.intent, request.verb, request.platform) == (Intent.COMMAND, Verb.RAISE, "meta")
    assert request.campaign is not None and request.campaign.found is None
    assert candidates(request.campaign) == META
    assert request.amount is not None and request.amount.value == Decimal("10000")
    assert request.amount.mode == "by"


def test_pausing_my_tiktok_campaign_offers_the_active_tiktok_campaigns() -> None:
    request = parse("Pause my TikTok campaign")

    assert (request.intent, request.verb, request.platform) == (
        Intent.COMMAND,
        Verb.PAUSE,
        "tiktok",
    )
    assert request.campaign is not None and request.campaign.found is None
    # TopView is already paused: only the active two can be meant.
    assert candidates(request.campaign) == [
        "Spark Ads - Creator Reviews",
        "In-Feed - Trail Runners",
    ]


def test_spend_on_tiktok_yesterday() -> None:
    request = parse("How much did we spend on TikTok yesterday?")

    assert (request.intent, request.metric, request.platform) == (
        Intent.QUESTION,
        "spend",
        "tiktok",
    )
    assert request.period == Period(
        date(2026, 12, 5), date(2026, 12, 5), "yesterday (Dec 5)", explicit=True
    )
    assert request.campaign is None


def test_three_instagram_posts_about_the_winter_sale() -> None:
    request = parse("Write 3 Instagram posts about our winter sale")

    assert request.intent == Intent.CONTENT
    assert (request.count, request.content_kind) == (3, "post")
    assert (request.channel, request.topic) == ("instagram", "winter sale")
    assert request.content is None  # a topic, not the "Winter Sale Lookbook" draft


@pytest.mark.parametrize(
    "text", ["Tell me a joke", "What's the weather in Paris?", "who won the game last night"]
)
def test_off_topic_messages_are_out_of_scope_with_no_slots(text: str) -> None:
    request = parse(text)

    assert request == Request(text=text, intent=Intent.OUT_OF_SCOPE)


def test_current_roas_states_no_period() -> None:
    request = parse("What is my current ROAS?")

    assert (request.intent, request.metric, request.period) == (Intent.QUESTION, "roas", None)


# Intent.


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hi", Intent.OUT_OF_SCOPE),
        ("thanks", Intent.OUT_OF_SCOPE),
        ("thank you so much!", Intent.OUT_OF_SCOPE),
        ("good morning", Intent.OUT_OF_SCOPE),
        ("how are you?", Intent.OUT_OF_SCOPE),
        ("ok thanks", Intent.OUT_OF_SCOPE),
        ("Tell me a joke about ROAS", Intent.OUT_OF_SCOPE),
        ("what's the capital of France?", Intent.OUT_OF_SCOPE),
        ("write me a poem", Intent.OUT_OF_SCOPE),
        ("change the subject", Intent.OUT_OF_SCOPE),
        ("How are we doing?", Intent.QUESTION),
        ("how's search doing", Intent.QUESTION),
        ("give me a summary of last week", Intent.QUESTION),
        ("how is topview doing", Intent.QUESTION),
        ("show me the VIP segment", Intent.QUESTION),
        ("what's the ctr on tik tok", Intent.QUESTION),
        ("pause the search brand campaign", Intent.COMMAND),
        ("Could you pause the spark ads campaign?", Intent.COMMAND),
        ("please resume TopView", Intent.COMMAND),
        ("I want to pause the retargeting campaign", Intent.COMMAND),
        ("can we pause the lookalike campaign?", Intent.COMMAND),
        ("export the VIP segment", Intent.COMMAND),
        ("publish the draft about trail shoes", Intent.COMMAND),
        ("draft captions for our spring launch", Intent.CONTENT),
        ("an outline for a blog post on trail running for beginners", Intent.CONTENT),
        ("give me 5 hashtags for our spring collection", Intent.CONTENT),
        ("can you write an email about the new buyers offer?", Intent.CONTENT),
        ("I need three captions for the Acme Run Club video", Intent.CONTENT),
        ("brainstorm ideas for tiktok videos", Intent.CONTENT),
    ],
)
def test_intent(text: str, intent: Intent) -> None:
    assert parse(text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "should I pause the lookalike campaign?",
        "what would happen if I paused TopView?",
        "which campaigns should I increase?",
        "do you think we should pause spark ads?",
        "why did spend increase yesterday?",
        "did you pause the lookalike campaign?",
        "can I pause the lookalike campaign?",
        "would you recommend raising the search brand budget?",
    ],
)
def test_asking_about_an_action_is_a_question(text: str) -> None:
    request = parse(text)

    assert (request.intent, request.verb) == (Intent.QUESTION, None)


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("turn off the spark ads campaign", Verb.PAUSE),
        ("stop the retargeting campaign", Verb.PAUSE),
        ("put the lookalike campaign on hold", Verb.PAUSE),
        ("would you mind pausing search brand?", Verb.PAUSE),
        ("unpause TopView", Verb.RESUME),
        ("restart topview", Verb.RESUME),
        ("turn the in-feed campaign back on", Verb.RESUME),
        ("bump the brand campaign up by 10%", Verb.RAISE),
        ("boost spark ads by $50", Verb.RAISE),
        ("up the lookalike budget to $400", Verb.RAISE),
        ("add $200 to the lookalike budget", Verb.RAISE),
        ("double the budget for search brand", Verb.RAISE),
        ("cut the tiktok budget by 20%", Verb.LOWER),
        ("reduce search brand by $100", Verb.LOWER),
        ("halve the spark ads budget", Verb.LOWER),
        ("set Search - Brand to $600 a day", Verb.SET),
        ("change the lookalike budget to $300", Verb.SET),
        ("post the winter sale lookbook", Verb.PUBLISH),
        ("go live with the winter sale lookbook", Verb.PUBLISH),
        ("download the new buyers segment", Verb.EXPORT),
        ("send me the at-risk list", Verb.EXPORT),
        ("ok, please pause search brand", Verb.PAUSE),
        ("don't pause it, lower the budget instead", Verb.LOWER),
    ],
)
def test_command_verbs(text: str, verb: Verb) -> None:
    request = parse(text)

    assert (request.intent, request.verb) == (Intent.COMMAND, verb)


# Campaign names.


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pause the search brand campaign", "Search - Brand"),
        ("pause the lookalike campaign", "Prospecting - Lookalike 1%"),
        ("increase spark ads by $50 a day", "Spark Ads - Creator Reviews"),
        ("how's the lookalike doing", "Prospecting - Lookalike 1%"),
        ("how is performance max doing", "Performance Max - Catch-all"),
        ("the brand campaign", "Search - Brand"),
        ("raise the budget of serch brnd by $50", "Search - Brand"),
        ("pause prospectng", "Prospecting - Lookalike 1%"),
        ("ctr for the retargeting campaign", "Retargeting - Cart Abandoners"),
        ("Set Prospecting - Lookalike 1% to $600", "Prospecting - Lookalike 1%"),
        ("resume my tiktok campaign", "TopView - Summer Launch"),  # the only paused one
        ("pause the lookalike campaign on tiktok", "Prospecting - Lookalike 1%"),
    ],
)
def test_a_campaign_named_loosely_is_found(text: str, name: str) -> None:
    request = parse(text)

    assert found(request.campaign) == name
    assert request.campaign is not None and request.campaign.candidates == ()
    platform = next(row.platform for row in NAMES.campaigns if row.name == name)
    assert request.platform == platform


@pytest.mark.parametrize(
    ("title", "verb", "name"),
    [
        ("Raise Search - Brand's daily budget to $720.00", Verb.RAISE, "Search - Brand"),
        (
            "Lower Spark Ads - Creator Reviews's daily budget to $96.00",
            Verb.LOWER,
            "Spark Ads - Creator Reviews",
        ),
        ("Pause Prospecting - Lookalike 1%", Verb.PAUSE, "Prospecting - Lookalike 1%"),
        ("Resume TopView - Summer Launch", Verb.RESUME, "TopView - Summer Launch"),
    ],
)
def test_the_agents_own_suggestion_titles_parse_back(title: str, verb: Verb, name: str) -> None:
    """The agents word suggestions like this; "do it" re-reads the title as the command."""
    request = parse(title)

    assert (request.intent, request.verb, found(request.campaign)) == (Intent.COMMAND, verb, name)


def test_publish_and_export_titles_parse_back() -> None:
    publish = parse("Publish 'How to choose trail running shoes' now")
    export = parse("Export VIP Customers for a win-back campaign")

    assert (publish.verb, found(publish.content)) == (
        Verb.PUBLISH,
        "How to choose trail running shoes",
    )
    assert (export.verb, found(export.segment), export.campaign) == (
        Verb.EXPORT,
        "VIP Customers",
        None,
    )


def test_the_words_taken_as_the_name_are_reported() -> None:
    request = parse("pause the search brand campaign")

    assert request.campaign is not None and request.campaign.asked == "search brand"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("pause the search campaign", ["Search - Brand", "Search - Running Shoes"]),
        ("how is the shopping campaign doing", ["Advantage+ Shopping", "Shopping - All Products"]),
        ("lower my Meta campaign by 10%", META),
    ],
)
def test_an_ambiguous_campaign_gives_candidates(text: str, names: list[str]) -> None:
    request = parse(text)

    assert request.campaign is not None and request.campaign.found is None
    assert candidates(request.campaign) == names


def test_an_unknown_campaign_is_asked_with_no_close_name() -> None:
    request = parse("pause the Foobar campaign")

    assert request.campaign == NameMatch(found=None, candidates=(), asked="foobar", suggestion=None)


def test_a_name_close_but_not_matching_is_a_suggestion() -> None:
    request = parse("pause the summer sale campaign")

    assert request.campaign is not None
    assert (request.campaign.found, request.campaign.candidates) == (None, ())
    assert request.campaign.asked == "summer sale"
    assert request.campaign.suggestion is not None
    assert request.campaign.suggestion.name == "TopView - Summer Launch"


@pytest.mark.parametrize(
    "text",
    [
        "pause my campaign",
        "how are my ads doing?",
        "what's the max budget",
        "how's performance on meta last week",
        "How much did we spend on TikTok yesterday?",
        "give me the ads report",
        "which campaign has the best ROAS?",
    ],
)
def test_noise_and_platform_words_name_no_campaign(text: str) -> None:
    assert parse(text).campaign is None


def test_a_platform_alone_is_a_platform_not_a_campaign() -> None:
    request = parse("spend on TikTok")

    assert (request.platform, request.campaign) == ("tiktok", None)


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("ROAS on facebook", "meta"),
        ("ROAS on Instagram", "meta"),
        ("spend on fb", "meta"),
        ("ctr on google", "google_ads"),
        ("spend on adwords", "google_ads"),
        ("cpa on LinkedIn", "linkedin"),
        ("spend on tik tok", "tiktok"),
    ],
)
def test_platform_words(text: str, platform: str) -> None:
    assert parse(text).platform == platform


# Content items and segments.


def test_a_draft_is_found_by_its_topic_for_publishing() -> None:
    request = parse("publish the draft about trail shoes")

    assert found(request.content) == "How to choose trail running shoes"
    assert request.content is not None and request.content.asked == "trail shoes"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("export the VIP segment", "VIP Customers"),
        ("how big is the VIP segment", "VIP Customers"),
        ("what's the churn risk of at-risk subscribers", "At-Risk Subscribers"),
        ("download the new buyers segment", "New Buyers (30 days)"),
        ("what's the LTV of VIP customers", "VIP Customers"),
    ],
)
def test_segments_are_found_by_name(text: str, name: str) -> None:
    assert found(parse(text).segment) == name


# Periods.


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("yesterday", date(2026, 12, 5), date(2026, 12, 5), "yesterday (Dec 5)"),
        ("today", TODAY, TODAY, "today (Dec 6)"),
        (
            "in the last 7 days",
            date(2026, 11, 29),
            date(2026, 12, 5),
            "the last 7 days (Nov 29 to Dec 5)",
        ),
        (
            "past 30 days",
            date(2026, 11, 6),
            date(2026, 12, 5),
            "the past 30 days (Nov 6 to Dec 5)",
        ),
        ("this week", date(2026, 11, 30), TODAY, "this week (Nov 30 to Dec 6)"),
        ("last week", date(2026, 11, 23), date(2026, 11, 29), "last week (Nov 23 to Nov 29)"),
        ("this month", date(2026, 12, 1), TODAY, "this month (Dec 1 to Dec 6)"),
        ("last month", date(2026, 11, 1), date(2026, 11, 30), "last month (November 2026)"),
        ("in October", date(2026, 10, 1), date(2026, 10, 31), "October 2026"),
        ("October 2025", date(2025, 10, 1), date(2025, 10, 31), "October 2025"),
        ("between Nov 3 and Nov 10", date(2026, 11, 3), date(2026, 11, 10), "Nov 3 to Nov 10"),
        ("from 2026-11-03 to 2026-11-10", date(2026, 11, 3), date(2026, 11, 10), "Nov 3 to Nov 10"),
        ("Nov 3-10", date(2026, 11, 3), date(2026, 11, 10), "Nov 3 to Nov 10"),
        ("since Nov 3", date(2026, 11, 3), TODAY, "since Nov 3 (Nov 3 to Dec 6)"),
        ("last quarter", date(2026, 7, 1), date(2026, 9, 30), "last quarter (Q3 2026)"),
        ("last year", date(2025, 1, 1), date(2025, 12, 31), "last year (2025)"),
    ],
)
def test_periods(text: str, start: date, end: date, label: str) -> None:
    assert period_resolve(text, TODAY) == Period(start, end, label, explicit=True)


def test_a_month_later_than_this_one_is_last_years() -> None:
    period = period_resolve("how did we do in October?", date(2026, 2, 10))

    assert period is not None and (period.start, period.end) == (
        date(2025, 10, 1),
        date(2025, 10, 31),
    )


def test_a_range_across_new_year_starts_last_year() -> None:
    period = period_resolve("Dec 20 to Jan 5", date(2026, 1, 20))

    assert period is not None and (period.start, period.end) == (
        date(2025, 12, 20),
        date(2026, 1, 5),
    )


@pytest.mark.parametrize(
    "text", ["what is my current ROAS?", "you may want to pause it", "raise lookalike 1% by 10k"]
)
def test_no_period_stated(text: str) -> None:
    assert period_resolve(text, TODAY) is None


def test_a_question_with_a_period_carries_it() -> None:
    request = parse("What's the CPA on LinkedIn this month?")

    assert request.period is not None and request.period.label == "this month (Dec 1 to Dec 6)"


# Amounts.


@pytest.mark.parametrize(
    ("text", "value", "mode", "per_day"),
    [
        ("raise search brand by $500", "500", "by", True),
        ("raise search brand by 500 dollars", "500", "by", True),
        ("increase budget 10k for lookalike", "10000", "by", True),
        ("raise lookalike by $1.5k", "1500", "by", True),
        ("set Search - Brand to $600 a day", "600", "to", True),
        ("raise spark ads to $600", "600", "to", True),
        ("lower spark ads by 20%", "20", "percent", True),
        ("lower spark ads by 20 percent", "20", "percent", True),
        ("Raise the budget from $500 to $600 for search brand", "600", "to", True),
        ("Set the Search - Brand daily budget to 600", "600", "to", True),
        ("set spark ads to $600 per month", "600", "to", False),
        ("Put $200 more into spark ads", "200", "by", True),
        ("double the budget for search brand", "100", "percent", True),
        ("raise Prospecting - Lookalike 1% by 20%", "20", "percent", True),
        ("raise the lookalike 1% campaign by $75", "75", "by", True),
    ],
)
def test_amounts(text: str, value: str, mode: str, per_day: bool) -> None:
    assert parse(text).amount == Amount(Decimal(value), mode, per_day)


def test_amounts_are_json_safe_decimals() -> None:
    request = parse("raise lookalike by $1.5k")

    assert request.amount is not None and str(request.amount.value) == "1500"
    assert (
        str(parse("Raise Search - Brand's daily budget to $720.00").as_dict()["amount"]["value"])
        == "720"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Write 3 Instagram posts about our winter sale",
        "spend in 2025",
        "spend between Nov 3 and Nov 10",
        "How is Prospecting - Lookalike 1% doing?",
        "top 5 campaigns by ROAS",
    ],
)
def test_counts_years_dates_and_names_are_not_amounts(text: str) -> None:
    assert parse(text).amount is None


# Content requests and metrics.


@pytest.mark.parametrize(
    ("text", "count", "kind", "channel", "topic"),
    [
        ("draft captions for our spring launch", None, "caption", None, "spring launch"),
        (
            "an outline for a blog post on trail running for beginners",
            None,
            "outline",
            "blog",
            "trail running for beginners",
        ),
        ("write three tweets about the Summit GTX", 3, "post", "twitter", "summit gtx"),
        (
            "write a blog post about trail running shoes",
            None,
            "blog",
            "blog",
            "trail running shoes",
        ),
        ("create 3 ads for tiktok about our summer launch", 3, "ad", "tiktok", "summer launch"),
        (
            "Write a post on LinkedIn about our wholesale offer",
            None,
            "post",
            "linkedin",
            "wholesale offer",
        ),
        ("write an email newsletter about the spring sale", None, "email", "email", "spring sale"),
    ],
)
def test_content_slots(
    text: str, count: int | None, kind: str, channel: str | None, topic: str
) -> None:
    request = parse(text)

    assert request.intent == Intent.CONTENT
    assert (request.count, request.content_kind, request.channel, request.topic) == (
        count,
        kind,
        channel,
        topic,
    )


def test_content_for_a_topic_names_no_campaign() -> None:
    # "spring collection" is a topic here, not "Broad - Spring Collection".
    request = parse("give me 5 hashtags for our spring collection")

    assert (request.campaign, request.platform, request.count) == (None, None, 5)


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("what's my return on ad spend", "roas"),
        ("how much did we spend last week", "spend"),
        ("what did it cost us", "spend"),
        ("how are sales on meta", "revenue"),
        ("what's our cost per acquisition on linkedin", "cpa"),
        ("cost per conversion for search brand", "cpa"),
        ("click-through rate on tiktok", "ctr"),
        ("How many conversions did we get in October?", "conversions"),
        ("where do we rank for trail running shoes", "rankings"),
        ("how many visits did the blog get", "traffic"),
        ("likes and comments on our instagram posts", "engagement"),
        ("which segments are at risk of churning", "churn"),
        ("what's the lifetime value of VIP customers", "ltv"),
        ("how big is the VIP segment", "size"),
        ("what's the budget on search brand", "budget"),
        ("top 5 campaigns by ROAS last week", "roas"),
    ],
)
def test_metrics(text: str, metric: str) -> None:
    assert parse(text).metric == metric


def test_top_n_is_a_count() -> None:
    assert parse("top 5 campaigns by ROAS last week").count == 5


# The agent type shifts meanings but is never needed.


def test_google_is_the_search_engine_to_the_seo_agent() -> None:
    request = parse("where do we rank on google for trail running shoes", agent_type=AgentType.SEO)

    assert (request.metric, request.platform) == ("rankings", None)
    assert parse("where do we rank on google for trail running shoes").platform == "google_ads"


def test_performing_means_engagement_to_the_content_agent() -> None:
    request = parse("how did our instagram posts perform last week", agent_type=AgentType.CONTENT)

    assert (request.metric, request.channel, request.platform) == ("engagement", "instagram", None)


def test_how_many_means_size_to_the_audience_agent() -> None:
    assert parse("how many are in New Buyers?", agent_type=AgentType.AUDIENCE).metric == "size"


# Conversations.


def test_a_new_platform_follows_up_the_same_question() -> None:
    request = conversation("How much did we spend on Meta yesterday?", "and on TikTok?")

    assert (request.intent, request.metric, request.platform) == (
        Intent.QUESTION,
        "spend",
        "tiktok",
    )
    assert request.period is not None and request.period.label == "yesterday (Dec 5)"
    assert request.follow_up


def test_a_new_period_follows_up_through_a_chain() -> None:
    request = conversation(
        "How much did we spend on Meta yesterday?", "and on TikTok?", "and last month?"
    )

    assert (request.metric, request.platform, request.follow_up) == ("spend", "tiktok", True)
    assert request.period is not None and request.period.label == "last month (November 2026)"


def test_what_about_a_period_keeps_the_campaign() -> None:
    request = conversation("What's the ROAS for spark ads?", "what about last week?")

    assert found(request.campaign) == "Spark Ads - Creator Reviews"
    assert (request.metric, request.follow_up) == ("roas", True)


def test_a_new_platform_drops_a_campaign_elsewhere() -> None:
    request = conversation("How is Search - Brand doing this week?", "and on Meta?")

    assert (request.platform, request.campaign) == ("meta", None)
    assert request.period is not None and request.period.label.startswith("this week")


def test_a_new_platform_for_a_command_offers_its_campaigns() -> None:
    request = conversation("Pause my TikTok campaign", "what about Meta?")

    assert (request.intent, request.verb, request.platform) == (Intent.COMMAND, Verb.PAUSE, "meta")
    assert candidates(request.campaign) == META


def test_a_full_new_question_does_not_inherit() -> None:
    request = conversation("How much did we spend on Meta yesterday?", "What's my ROAS on Google?")

    assert (request.metric, request.platform, request.period) == ("roas", "google_ads", None)
    assert not request.follow_up


@pytest.mark.parametrize(
    "reply", ["do it", "yes", "go ahead", "yes please", "ok do that", "sounds good, do it"]
)
def test_confirmations_keep_the_previous_command(reply: str) -> None:
    request = conversation("Raise the lookalike campaign by 20%", reply)

    assert (request.intent, request.confirm, request.verb) == (Intent.COMMAND, True, Verb.RAISE)
    assert found(request.campaign) == "Prospecting - Lookalike 1%"
    assert request.amount == Amount(Decimal("20"), "percent", per_day=True)


def test_a_confirmation_after_a_question_is_flagged_for_the_caller() -> None:
    request = conversation("what do you recommend for TikTok?", "go ahead")

    assert (request.intent, request.confirm, request.platform) == (Intent.COMMAND, True, "tiktok")


@pytest.mark.parametrize(
    ("reply", "choice", "name"),
    [
        ("the second one", 2, "In-Feed - Trail Runners"),
        ("number 2", 2, "In-Feed - Trail Runners"),
        ("the first", 1, "Spark Ads - Creator Reviews"),
        ("#2", 2, "In-Feed - Trail Runners"),
        ("2", 2, "In-Feed - Trail Runners"),
        ("the last one", 2, "In-Feed - Trail Runners"),
    ],
)
def test_a_choice_completes_the_previous_command(reply: str, choice: int, name: str) -> None:
    request = conversation("Pause my TikTok campaign", reply)

    assert (request.choice, found(request.campaign)) == (choice, name)
    assert (request.intent, request.verb, request.follow_up) == (Intent.COMMAND, Verb.PAUSE, True)
    assert request.campaign is not None and request.campaign.candidates == ()


def test_a_choice_keeps_the_amount() -> None:
    request = conversation("Increase my Meta campaign budget by $10,000", "the third one")

    assert found(request.campaign) == "Broad - Spring Collection"
    assert request.amount is not None and request.amount.value == Decimal("10000")


def test_a_choice_out_of_range_is_kept_for_the_caller() -> None:
    request = conversation("Pause my TikTok campaign", "number 5")

    assert (request.choice, request.campaign and request.campaign.found) == (5, None)
    assert len(candidates(request.campaign)) == 2


def test_a_choice_with_no_candidates_is_kept_for_the_caller() -> None:
    request = conversation("what do you recommend?", "the second one")

    assert (request.choice, request.intent, request.follow_up) == (2, Intent.QUESTION, True)


@pytest.mark.parametrize(
    ("reply", "name"),
    [
        ("Prospecting - Lookalike 1%", "Prospecting - Lookalike 1%"),
        ("the lookalike one", "Prospecting - Lookalike 1%"),
        ("shopping", "Advantage+ Shopping"),  # among the Meta candidates, only one
    ],
)
def test_naming_a_candidate_completes_the_previous_command(reply: str, name: str) -> None:
    request = conversation("Increase my Meta campaign budget by $10,000", reply)

    assert found(request.campaign) == name
    assert (request.intent, request.verb, request.follow_up) == (Intent.COMMAND, Verb.RAISE, True)
    assert request.amount is not None and request.amount.value == Decimal("10000")


def test_naming_one_of_two_search_campaigns() -> None:
    request = conversation("pause the search campaign", "the brand one")

    assert (found(request.campaign), request.verb) == ("Search - Brand", Verb.PAUSE)


def test_it_refers_to_the_campaign_discussed() -> None:
    request = conversation("How is Search - Brand doing this week?", "pause it")

    assert (request.intent, request.verb) == (Intent.COMMAND, Verb.PAUSE)
    assert found(request.campaign) == "Search - Brand"
    assert request.period is None  # a new request, only the campaign carried over


def test_the_budget_refers_to_the_campaign_discussed() -> None:
    request = conversation("How is Search - Brand doing?", "Can you increase the budget by $500?")

    assert found(request.campaign) == "Search - Brand"
    assert request.amount == Amount(Decimal("500"), "by", per_day=True)


def test_a_content_follow_up_changes_channel_and_count() -> None:
    request = conversation("Write 3 Instagram posts about our winter sale", "and 2 for TikTok")

    assert (request.intent, request.count, request.channel) == (Intent.CONTENT, 2, "tiktok")
    assert (request.content_kind, request.topic) == ("post", "winter sale")


def test_nothing_follows_an_out_of_scope_message() -> None:
    request = conversation("hi", "and last month?")

    assert request == Request(text="and last month?", intent=Intent.OUT_OF_SCOPE)


def test_how_did_it_do_asks_about_the_campaign_discussed() -> None:
    request = conversation("How is Search - Brand doing?", "how did it do yesterday?")

    assert (request.intent, found(request.campaign)) == (Intent.QUESTION, "Search - Brand")
    assert request.period is not None and request.period.label == "yesterday (Dec 5)"
    assert parse("how is it going?").intent == Intent.OUT_OF_SCOPE


def test_and_the_other_one_repeats_the_command_for_it() -> None:
    request = conversation("Pause the lookalike campaign", "and the retargeting one?")

    assert (request.verb, found(request.campaign)) == (Verb.PAUSE, "Retargeting - Cart Abandoners")
    assert (request.content, request.segment) == (None, None)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Post performance last week", Intent.QUESTION),
        ("Set up a new campaign for Black Friday", Intent.QUESTION),
    ],
)
def test_nouns_that_look_like_verbs(text: str, intent: Intent) -> None:
    request = parse(text)

    assert (request.intent, request.verb) == (intent, None)
    assert request.period is None or request.period.label.startswith("last week")


# The JSON given to run metadata and Langflow.


def test_as_dict_is_json_safe() -> None:
    request = parse("Increase my Meta campaign budget by $10,000 last week")
    data = request.as_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["intent"] == "command" and data["verb"] == "raise"
    assert data["amount"] == {"value": "10000", "mode": "by", "per_day": True}
    assert data["period"]["start"] == "2026-11-23"
    assert data["campaign"]["candidates"][0] == {
        "id": 1,
        "name": "Prospecting - Lookalike 1%",
        "kind": "campaign",
    }


# The one function that reads the database.


@pytest.mark.django_db
def test_names_for_lists_the_tenants_names_only() -> None:
    tenant = cast(Tenant, TenantFactory())
    CampaignFactory(tenant=tenant, name="Search - Brand", platform="google_ads", status="paused")
    CampaignFactory(tenant=tenant, name="Advantage+ Shopping", platform="meta")
    ContentItemFactory(
        tenant=tenant, title="Winter Sale Lookbook", status="draft", published_at=None
    )
    AudienceSegmentFactory(tenant=tenant, name="VIP Customers")
    CampaignFactory(name="Someone else's campaign")

    names = names_for(tenant)

    assert [(row.name, row.platform, row.status) for row in names.campaigns] == [
        ("Advantage+ Shopping", "meta", "active"),
        ("Search - Brand", "google_ads", "paused"),
    ]
    assert [(row.name, row.kind, row.status) for row in names.content] == [
        ("Winter Sale Lookbook", "content", "draft")
    ]
    assert [row.name for row in names.segments] == ["VIP Customers"]
    request = understand("pause search brand", names=names, today=TODAY)
    assert request.campaign is not None and request.campaign.found == names.campaigns[1]
