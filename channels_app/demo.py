"""Weeks of demo conversations between the demo end users and the Walker agents.

The history is scripted, not random noise: each conversation follows a marketing topic (paid ads,
SEO, content, audiences), replies carry plausible figures, and the message lifecycle leaves the
events the turn engine would (received, routed, sent or held, failed). A `random.Random` seeded
per user makes every run plan the same history; each conversation carries a key in its
messages' metadata (`{"demo": "d12.0"}`), so a re-run skips what is already stored.
"""

from __future__ import annotations

import hashlib
import random
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction

from accounts.models import User
from agents.models import AgentRun
from agents.types import AgentType, BackendKind
from channels_app.events import Event, EventKind
from channels_app.models import Channel, Conversation, Message
from channels_app.search_index import messages_index

Progress = Callable[[str], None]

HISTORY_DAYS = 28
# The default confidence threshold under which the turn engine holds a reply (DESIGN.md).
HOLD_THRESHOLD = 0.6
# Conversations younger than this are still open; older ones were closed or decided.
OPEN_DAYS = 3

Direction = Message.Direction
Sender = Message.SenderKind
Status = Message.DeliveryStatus


@dataclass(frozen=True)
class Exchange:
    asks: tuple[str, ...]
    answers: tuple[str, ...]
    needs_approval: bool = False


@dataclass(frozen=True)
class Topic:
    agent_type: str
    exchanges: tuple[Exchange, ...]
    priority: str = Conversation.Priority.NORMAL


TOPICS: tuple[Topic, ...] = (
    Topic(
        AgentType.PAID_ADS,
        (
            Exchange(
                (
                    "How did our Meta campaigns do last week?",
                    "Quick one: how is Meta performing this week?",
                    "Can you give me the Meta numbers for the last 7 days?",
                ),
                (
                    "Meta spent ${spend} over the last 7 days at a {roas}x ROAS, up from "
                    "{roas_prev}x the week before. {campaign} drove most of it with {conversions} "
                    "purchases at a ${cpa} CPA.",
                    "Last 7 days on Meta: ${spend} spend, {conversions} purchases, ROAS {roas}x "
                    "(previous week {roas_prev}x). CTR held at {ctr}% and CPM was ${cpm}.",
                ),
            ),
            Exchange(
                ("Which ad set is dragging it down?", "What is underperforming there?"),
                (
                    "The broad-interest ad set in {campaign}: CTR {ctr_low}% against a {ctr}% "
                    "account average and a ${cpa_high} CPA. The 1% lookalike is doing "
                    "{roas_high}x on a third of the budget.",
                ),
            ),
            Exchange(
                (
                    "Move ${shift} a day from broad to the lookalike.",
                    "OK, shift that budget to the lookalike then.",
                ),
                (
                    "Drafted: pause the broad-interest ad set and add ${shift}/day to the 1% "
                    "lookalike in {campaign}. Budget changes need sign-off, so it is with your "
                    "team for approval.",
                ),
                needs_approval=True,
            ),
        ),
        priority=Conversation.Priority.HIGH,
    ),
    Topic(
        AgentType.PAID_ADS,
        (
            Exchange(
                (
                    "What's our ROAS on Google Ads this month?",
                    "How is Google Ads tracking month to date?",
                ),
                (
                    "Google Ads is at {roas}x ROAS month to date on ${spend} spend. Brand search "
                    "carries it at {roas_high}x; Performance Max sits at {roas_low}x and is the "
                    "one to watch.",
                ),
            ),
            Exchange(
                ("Why is Performance Max so low?",),
                (
                    "About {pct}% of Performance Max spend went to Display and YouTube placements "
                    "with a ${cpa_high} CPA. Adding the brand exclusion list and feeding it the "
                    "purchaser audience usually lifts it within two weeks.",
                ),
            ),
            Exchange(
                ("Should we raise the search budget?", "Is it worth putting more into search?"),
                (
                    "Yes: search lost {pct_small}% impression share to budget last week. An extra "
                    "${shift}/day should bring around {clicks} more clicks at today's ${cpc} CPC. "
                    "I have queued the change for approval.",
                ),
                needs_approval=True,
            ),
        ),
    ),
    Topic(
        AgentType.PAID_ADS,
        (
            Exchange(
                ("Is TikTok worth keeping in the mix?", "Be honest, is TikTok working for us?"),
                (
                    "TikTok brought {conversions} conversions at a ${cpa} CPA over the last "
                    "{window} days, {pct}% cheaper than Meta, but ROAS is only {roas_low}x because "
                    "baskets are smaller. It earns its place as a top-of-funnel channel.",
                ),
            ),
            Exchange(
                ("Which creatives work best there?",),
                (
                    "Creator-style videos under 15 seconds: {ctr}% CTR and a {hook}% three-second "
                    "view rate. The polished product spots are at {ctr_low}% CTR. I'd brief two "
                    "more creator videos this month.",
                ),
            ),
        ),
    ),
    Topic(
        AgentType.PAID_ADS,
        (
            Exchange(
                (
                    "LinkedIn cost per lead feels high. What's going on?",
                    "Why are LinkedIn leads so expensive lately?",
                ),
                (
                    "Cost per lead on LinkedIn is ${cpl} this month against ${cpl_prev} last "
                    "month. Frequency on the Decision Makers audience reached {frequency}, so the "
                    "ads are fatiguing. Lead quality is still good: {pct}% became opportunities.",
                ),
            ),
            Exchange(
                ("What would you change?",),
                (
                    "Rotate in the two new document ads, cap frequency at 3 per week and widen the "
                    "audience to Director titles. That should bring CPL back toward ${cpl_prev} "
                    "within {window} days.",
                ),
            ),
        ),
    ),
    Topic(
        AgentType.PAID_ADS,
        (
            Exchange(
                (
                    "Are we on track with the monthly ad budget?",
                    "How is budget pacing across channels?",
                ),
                (
                    "You have spent ${spend} of ${budget} ({pct_budget}%) with {days_left} days "
                    "to go. Meta is pacing {pace}% ahead, Google is on plan and LinkedIn is "
                    "under-delivering by {pct_small}%.",
                ),
            ),
            Exchange(
                (
                    "Cap Meta so we don't overspend.",
                    "Please rein in Meta for the rest of the month.",
                ),
                (
                    "I have prepared a daily cap of ${cap} on Meta for the rest of the month. "
                    "Spend caps need approval, so it is waiting on your team.",
                ),
                needs_approval=True,
            ),
        ),
        priority=Conversation.Priority.HIGH,
    ),
    Topic(
        AgentType.SEO,
        (
            Exchange(
                ("Where do we rank for '{keyword}' now?", "Any movement on '{keyword}'?"),
                (
                    "We are at position {rank} for '{keyword}' ({volume} searches a month), up "
                    "from {rank_prev} two weeks ago. The refreshed guide page now gets {clicks} "
                    "organic clicks a week.",
                ),
            ),
            Exchange(
                ("What would get us into the top 3?",),
                (
                    "The top three pages all run past 2,500 words with comparison tables and FAQ "
                    "markup; ours is 1,400 words with no schema. A comparison table, an FAQ block "
                    "and links from our {links} most-visited posts is the fastest path.",
                ),
            ),
        ),
    ),
    Topic(
        AgentType.SEO,
        (
            Exchange(
                ("Why did organic traffic drop this week?", "Organic sessions look down. Why?"),
                (
                    "Organic sessions fell {pct_small}% week over week. Most of it is the pricing "
                    "page: it slipped from position {rank} to {rank_prev} for '{keyword}' after a "
                    "competitor published a comparison page. Everything else is flat.",
                ),
            ),
            Exchange(
                ("Can we win that back?",),
                (
                    "Likely, yes. Adding a plan comparison and customer quotes to the pricing page "
                    "and requesting re-indexing recovered a similar drop in {window} days last "
                    "quarter.",
                ),
            ),
        ),
        priority=Conversation.Priority.HIGH,
    ),
    Topic(
        AgentType.SEO,
        (
            Exchange(
                ("Any quick SEO wins this week?", "What are the easy SEO fixes right now?"),
                (
                    "Three: {pages} product pages have titles cut off in search results, "
                    "{pages_small} pages have no meta description, and the '{keyword}' guide has "
                    "no internal links pointing to it. All three are an afternoon of work.",
                ),
            ),
            Exchange(
                ("Send me the list of pages.",),
                (
                    "Sent to your inbox: {pages} URLs grouped by fix and sorted by monthly "
                    "impressions, so the biggest wins come first.",
                ),
            ),
        ),
        priority=Conversation.Priority.LOW,
    ),
    Topic(
        AgentType.CONTENT,
        (
            Exchange(
                (
                    "Give me three LinkedIn post ideas for the launch.",
                    "I need LinkedIn post ideas for next week.",
                ),
                (
                    "1) A customer before-and-after with the {pct}% time saved. 2) A 30-second "
                    "demo of the new dashboard. 3) A founder post on why we built it. Posts that "
                    "open with a number got {pct_small}% more engagement for you this quarter.",
                ),
            ),
            Exchange(
                ("Draft the first one.", "Can you draft the first idea?"),
                (
                    "Draft: '{pct}% less time on reporting. That is what {customer} saw in their "
                    "first month with us. Here is what changed.' Then three bullet points and a "
                    "link to the case study. Want a shorter cut for the company page?",
                ),
            ),
        ),
        priority=Conversation.Priority.LOW,
    ),
    Topic(
        AgentType.CONTENT,
        (
            Exchange(
                (
                    "Can you suggest subject lines for Thursday's newsletter?",
                    "Newsletter goes out Thursday, any subject line ideas?",
                ),
                (
                    "Options: 'Your {month} marketing playbook', 'The {minutes}-minute fix for "
                    "wasted ad spend' and 'What {conversions} marketers changed this month'. Lines "
                    "with a number averaged a {open_rate}% open rate on your list, against "
                    "{open_rate_low}% without.",
                ),
            ),
            Exchange(
                ("Go with the second one. Can you A/B test it?",),
                (
                    "Set up: a 50/50 split on {sample} subscribers for 4 hours, and the winner "
                    "goes to the rest of the list. I will report opens and clicks on Friday.",
                ),
            ),
        ),
        priority=Conversation.Priority.LOW,
    ),
    Topic(
        AgentType.CONTENT,
        (
            Exchange(
                ("What should the blog cover next month?", "Help me plan next month's blog."),
                (
                    "Going by search demand and what converts: a guide to '{keyword}' ({volume} "
                    "searches a month), a teardown of three competitor landing pages, and a case "
                    "study on ROAS recovery. The last case study brought {leads} demo requests.",
                ),
            ),
        ),
    ),
    Topic(
        AgentType.AUDIENCE,
        (
            Exchange(
                (
                    "Which segments are most likely to churn?",
                    "Who should we worry about losing this month?",
                ),
                (
                    "Trial users who have not connected an ad account within {window} days: "
                    "{segment} people with a {churn}% predicted churn rate, about {multiple}x the "
                    "base rate. Next come monthly plans whose logins fell by half.",
                ),
            ),
            Exchange(
                ("What can we do about the trial users?",),
                (
                    "A three-step onboarding nudge (email on day 2, in-app checklist on day 4, "
                    "call offer on day 6) cut churn by {pct_small}% in last quarter's test group. "
                    "I can switch it on for this segment.",
                ),
            ),
            Exchange(
                ("Yes, switch it on.", "Do it."),
                (
                    "Ready on my side: the nudge sequence is set up for {segment} trial users. "
                    "Audience syncs to the email platform need approval, so it is queued for "
                    "your team.",
                ),
                needs_approval=True,
            ),
        ),
        priority=Conversation.Priority.HIGH,
    ),
    Topic(
        AgentType.AUDIENCE,
        (
            Exchange(
                ("Who are our best customers right now?", "Describe our best customer segment."),
                (
                    "Repeat buyers from paid social: {segment} people, average order ${aov}, "
                    "{orders} orders a year. They over-index on mobile and buy mostly on "
                    "weekends.",
                ),
            ),
            Exchange(
                ("Can we find more people like them on Meta?",),
                (
                    "A 1% lookalike of that group has {audience_size} people in your markets. "
                    "Similar lookalikes returned {roas_high}x ROAS for you before; I would start "
                    "it at ${shift}/day.",
                ),
            ),
        ),
    ),
    Topic(
        AgentType.AUDIENCE,
        (
            Exchange(
                ("Build me a win-back audience.", "Can you put together a win-back segment?"),
                (
                    "Built: {segment} customers who lapsed 60 to 120 days ago, excluding refunds "
                    "and open support tickets. Expect around {pct_small}% to reactivate with a 15% "
                    "offer. Syncing it to Meta and Google needs approval.",
                ),
                needs_approval=True,
            ),
        ),
    ),
)

BRIEFS = (
    "Good morning {first_name}. Yesterday paid media spent ${spend_day} at a {roas}x ROAS, "
    "organic clicks were up {pct_small}% and {segment} trial users look at risk of churning. "
    "Reply to this email to ask about any of it.",
    "Your weekly brief, {first_name}: ROAS {roas}x (last week {roas_prev}x), cost per lead "
    "${cpl}, '{keyword}' at position {rank}. Reply with a question and the right agent will "
    "answer.",
    "Hi {first_name}, three things today: {campaign} is pacing {pace}% over budget, a new "
    "competitor page is ranking for '{keyword}', and the newsletter open rate hit {open_rate}%.",
)
CLOSERS = (
    "Thanks!",
    "Perfect, thank you.",
    "Great, thanks",
    "ok",
    "Got it, thanks!",
    "Nice work.",
    "That helps a lot, thanks.",
)
# (what the user says, what the operator who takes over answers)
METRICS_COMPLAINT = (
    "These numbers don't match what I see in the ad platform.",
    "Hi {first_name}, {operator} from the marketing team here. The platform counts 1-day view "
    "conversions and the agent reports 7-day click only, so both are right. I will send you a "
    "side-by-side today.",
)
COMPLAINTS = (
    (
        "This is not what I asked for. Can a person look at it?",
        "Hi {first_name}, this is {operator}. I have picked this up and will get back to you by "
        "the end of the day with what you need.",
    ),
    (
        "Honestly this doesn't help, I need someone from the team.",
        "Hi {first_name}, {operator} here from the marketing team. Sorry about that; I am on it "
        "and will call you this afternoon.",
    ),
)
HOLDING = (
    "Thanks! This needs a sign-off from your team before I apply it. I will message you as soon "
    "as it is approved.",
    "Got it. Changes like this are reviewed by your team first; you will hear from me once it "
    "is approved.",
)
APOLOGIES = (
    "Sorry, I could not reach the reporting data just now. I am retrying and will answer in a "
    "moment.",
    "One moment please, the ad platform is slow to respond. Retrying now.",
)

KEYWORDS = (
    "marketing automation software",
    "ad spend tracker",
    "roas calculator",
    "social media scheduler",
    "campaign reporting tool",
    "b2b lead generation",
)
CAMPAIGNS = (
    "Spring Launch",
    "Retargeting - Cart Abandoners",
    "Prospecting - Lookalike",
    "Summer Sale",
    "Webinar Signups",
)
CUSTOMERS = ("Northwind", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Retail")


@dataclass(frozen=True)
class Profile:
    """How an end user tends to talk to the agents: which channels, which topics."""

    channels: dict[str, int]
    agents: dict[str, int]


DEFAULT_PROFILE = Profile(
    channels={Channel.WHATSAPP: 1, Channel.EMAIL: 1, Channel.CHAT: 1},
    agents={AgentType.PAID_ADS: 1, AgentType.SEO: 1, AgentType.CONTENT: 1, AgentType.AUDIENCE: 1},
)
PROFILES = {
    "maya": Profile(
        channels={Channel.WHATSAPP: 5, Channel.EMAIL: 2, Channel.CHAT: 2},
        agents={
            AgentType.PAID_ADS: 5,
            AgentType.SEO: 1,
            AgentType.CONTENT: 2,
            AgentType.AUDIENCE: 2,
        },
    ),
    "leo": Profile(
        channels={Channel.WHATSAPP: 2, Channel.EMAIL: 2, Channel.CHAT: 5},
        agents={
            AgentType.PAID_ADS: 2,
            AgentType.SEO: 2,
            AgentType.CONTENT: 4,
            AgentType.AUDIENCE: 3,
        },
    ),
    "ana": Profile(
        channels={Channel.WHATSAPP: 3, Channel.EMAIL: 4, Channel.CHAT: 2},
        agents={
            AgentType.PAID_ADS: 3,
            AgentType.SEO: 4,
            AgentType.CONTENT: 2,
            AgentType.AUDIENCE: 2,
        },
    ),
}

# Seconds a channel's agent reply takes, and how its outbound messages end up.
REPLY_SECONDS: dict[str, tuple[float, float]] = {
    Channel.WHATSAPP: (1.4, 9.0),
    Channel.CHAT: (0.9, 6.5),
    Channel.EMAIL: (4, 40),
}
OUTBOUND_STATUSES: dict[str, dict[str, int]] = {
    Channel.WHATSAPP: {Status.READ: 55, Status.DELIVERED: 30, Status.SENT: 10, Status.FAILED: 5},
    Channel.CHAT: {Status.READ: 70, Status.DELIVERED: 30},
    Channel.EMAIL: {Status.DELIVERED: 50, Status.READ: 40, Status.SENT: 7, Status.FAILED: 3},
}


def twilio_sid(seed: str) -> str:
    """A Twilio-shaped message SID (`SM` + 32 hex), the same for the same seed."""
    return "SM" + hashlib.sha256(f"engarde-demo:{seed}".encode()).hexdigest()[:32]


def _figures(rng: random.Random, user: User) -> dict[str, str]:
    """One conversation's numbers, consistent with each other (low < typical < high)."""
    roas = rng.uniform(2.2, 4.6)
    ctr = rng.uniform(0.9, 2.8)
    cpa = rng.uniform(11, 48)
    cpl = rng.uniform(38, 140)
    rank = rng.randint(2, 9)
    spend = rng.randint(40, 260) * 100
    budget = spend + rng.randint(20, 200) * 100
    return {
        "first_name": user.first_name or user.username,
        "spend": f"{spend:,}",
        "spend_day": f"{spend // 7:,}",
        "budget": f"{budget:,}",
        "pct_budget": f"{100 * spend // budget}",
        "days_left": str(rng.randint(3, 19)),
        "pace": str(rng.randint(6, 24)),
        "cap": f"{rng.randint(6, 30) * 50:,}",
        "roas": f"{roas:.1f}",
        "roas_prev": f"{roas * rng.uniform(0.75, 1.05):.1f}",
        "roas_high": f"{roas * rng.uniform(1.3, 1.9):.1f}",
        "roas_low": f"{roas * rng.uniform(0.35, 0.7):.1f}",
        "ctr": f"{ctr:.2f}",
        "ctr_low": f"{ctr * rng.uniform(0.3, 0.6):.2f}",
        "cpm": f"{rng.uniform(6.5, 19):.2f}",
        "cpc": f"{rng.uniform(0.6, 3.9):.2f}",
        "cpa": f"{cpa:.2f}",
        "cpa_high": f"{cpa * rng.uniform(1.6, 2.8):.2f}",
        "cpl": f"{cpl:.0f}",
        "cpl_prev": f"{cpl * rng.uniform(0.6, 0.85):.0f}",
        "frequency": f"{rng.uniform(4.2, 8.5):.1f}",
        "conversions": str(rng.randint(40, 900)),
        "clicks": f"{rng.randint(120, 2400):,}",
        "shift": str(rng.randint(2, 12) * 50),
        "pct": str(rng.randint(18, 42)),
        "pct_small": str(rng.randint(4, 17)),
        "hook": str(rng.randint(28, 46)),
        "window": str(rng.choice((7, 10, 14, 21))),
        "campaign": rng.choice(CAMPAIGNS),
        "keyword": rng.choice(KEYWORDS),
        "rank": str(rank),
        "rank_prev": str(rank + rng.randint(2, 11)),
        "volume": f"{rng.randint(12, 90) * 100:,}",
        "links": str(rng.randint(4, 12)),
        "pages": str(rng.randint(14, 60)),
        "pages_small": str(rng.randint(3, 12)),
        "customer": rng.choice(CUSTOMERS),
        "month": rng.choice(("June", "July", "August", "September")),
        "minutes": str(rng.choice((5, 10, 15))),
        "open_rate": f"{rng.uniform(31, 44):.1f}",
        "open_rate_low": f"{rng.uniform(19, 28):.1f}",
        "sample": f"{rng.randint(8, 40) * 250:,}",
        "leads": str(rng.randint(12, 85)),
        "segment": f"{rng.randint(3, 48) * 100:,}",
        "churn": f"{rng.uniform(11, 34):.1f}",
        "multiple": f"{rng.uniform(2.1, 4.5):.1f}",
        "aov": f"{rng.uniform(64, 310):.0f}",
        "orders": f"{rng.uniform(3.1, 7.8):.1f}",
        "audience_size": f"{rng.randint(9, 40) * 100_000:,}",
    }


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class PlannedEvent:
    kind: str
    at: datetime
    message: Message | None = None
    agent_type: str = ""
    duration_ms: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Data keys whose value is a message's id, known only once the messages are stored.
    message_ids: dict[str, Message] = field(default_factory=dict)


class Script:
    """One conversation being written, message by message, with a clock that moves forward."""

    def __init__(
        self, *, rng: random.Random, user: User, channel: str, key: str, start: datetime
    ) -> None:
        self.rng = rng
        self.user = user
        self.channel = channel
        self.key = key
        self.at = start
        self.conversation = Conversation(tenant=user.member_tenant, user=user, channel=channel)
        self.messages: list[Message] = []
        self.events: list[PlannedEvent] = []

    def wait(self, low: float, high: float) -> None:
        self.at += timedelta(seconds=self.rng.uniform(low, high))

    def message(
        self, *, direction: str, sender: str, body: str, status: str, **fields: Any
    ) -> Message:
        extra = fields.pop("metadata", {})
        message = Message(
            conversation=self.conversation,
            channel=self.channel,
            direction=direction,
            sender_kind=sender,
            body=body,
            delivery_status=status,
            created_at=self.at,
            metadata={"demo": self.key, **extra},
            **fields,
        )
        self.messages.append(message)
        if status != Status.QUEUED:
            self.give_provider_id(message)
        return message

    def give_provider_id(self, message: Message) -> None:
        # Only WhatsApp messages pass through Twilio. The SID is derived from the message's place
        # in the history, so a re-run derives the same one and could never store it twice.
        if self.channel == Channel.WHATSAPP:
            position = self.messages.index(message)
            message.provider_id = twilio_sid(f"{self.user.username}:{self.key}:{position}")

    def receive(self, body: str) -> Message:
        message = self.message(
            direction=Direction.INBOUND, sender=Sender.USER, body=body, status=Status.RECEIVED
        )
        self.event(
            EventKind.MESSAGE_RECEIVED,
            message=message,
            duration_ms=self.rng.randint(8, 60),
            data={"length": len(body)},
            message_ids={"message_id": message},
        )
        return message

    def event(self, kind: str, **fields: Any) -> None:
        self.events.append(PlannedEvent(kind=kind, at=self.at, **fields))

    def outbound_status(self) -> str:
        return _pick(self.rng, OUTBOUND_STATUSES[self.channel])

    def send(self, *, sender: str, body: str, **fields: Any) -> Message:
        status = self.outbound_status()
        message = self.message(
            direction=Direction.OUTBOUND, sender=sender, body=body, status=status, **fields
        )
        if status == Status.FAILED:
            # 63016: outside WhatsApp's 24-hour window; 550: the mailbox refused it.
            code = 63016 if self.channel == Channel.WHATSAPP else 550
            self.event(
                EventKind.DELIVERY_UPDATED,
                message=message,
                data={"status": Status.FAILED, "error_code": code},
                message_ids={"message_id": message},
            )
        return message


@dataclass
class Plan:
    key: str
    conversation: Conversation
    messages: list[Message]
    events: list[PlannedEvent]


def _turn(
    script: Script, *, ask: str, answer: str, agent_type: str, needs_approval: bool, fail: bool
) -> bool:
    """The user asks, the agent answers (after a failed first attempt if `fail`) or its reply is
    held. True when held."""
    rng = script.rng
    inbound = script.receive(ask)
    if fail:
        timeout_ms = rng.choice((15_000, 30_000))
        script.at += timedelta(milliseconds=timeout_ms)
        script.event(
            EventKind.TURN_FAILED,
            agent_type=agent_type,
            duration_ms=timeout_ms,
            data={"error": "backend_timeout", "attempt": 1},
            message_ids={"inbound_message_id": inbound},
        )
        script.send(sender=Sender.SYSTEM, body=rng.choice(APOLOGIES))
        script.wait(20, 90)

    route_ms = rng.randint(3, 35)
    script.event(
        EventKind.AGENT_ROUTED,
        message=inbound,
        agent_type=agent_type,
        duration_ms=route_ms,
        data={
            "router_confidence": round(rng.uniform(0.55, 0.98), 2),
            "context_messages": min(len(script.messages), 10),
        },
        message_ids={"message_id": inbound},
    )
    script.wait(*REPLY_SECONDS[script.channel])
    response_ms = int((script.at - inbound.created_at).total_seconds() * 1000)
    low_confidence = rng.random() < 0.08
    confidence = round(rng.uniform(0.34, 0.58) if low_confidence else rng.uniform(0.62, 0.97), 2)
    held = needs_approval or confidence < HOLD_THRESHOLD
    reply_fields = {
        "agent_type": agent_type,
        "confidence": confidence,
        "response_time_ms": response_ms,
        "metadata": {"tokens": rng.randint(180, 900)},
    }
    if held:
        reply = script.message(
            direction=Direction.OUTBOUND,
            sender=Sender.AGENT,
            body=answer,
            status=Status.QUEUED,
            **reply_fields,
        )
        script.event(
            EventKind.REPLY_HELD,
            message=reply,
            agent_type=agent_type,
            duration_ms=response_ms,
            data={
                "confidence": confidence,
                "threshold": HOLD_THRESHOLD,
                "reason": "action_needs_approval" if needs_approval else "low_confidence",
            },
            message_ids={"message_id": reply, "inbound_message_id": inbound},
        )
        script.wait(1, 3)
        script.send(sender=Sender.SYSTEM, body=rng.choice(HOLDING))
        return True
    reply = script.send(sender=Sender.AGENT, body=answer, **reply_fields)
    script.event(
        EventKind.REPLY_SENT,
        message=reply,
        agent_type=agent_type,
        duration_ms=response_ms,
        data={"confidence": confidence, "tokens": reply.metadata["tokens"]},
        message_ids={"message_id": reply, "inbound_message_id": inbound},
    )
    return False


def _release(script: Script, *, agent_type: str) -> None:
    """An older held reply: the team approved it and it went out."""
    reply = next(m for m in reversed(script.messages) if m.delivery_status == Status.QUEUED)
    waited = timedelta(minutes=script.rng.uniform(8, 240))
    script.at += waited
    script.event(
        EventKind.APPROVAL_DECIDED,
        agent_type=agent_type,
        duration_ms=int(waited.total_seconds() * 1000),
        data={"decision": "approved"},
        message_ids={"message_id": reply},
    )
    reply.delivery_status = script.outbound_status()
    script.give_provider_id(reply)
    script.event(
        EventKind.REPLY_SENT,
        message=reply,
        agent_type=agent_type,
        duration_ms=script.rng.randint(180, 900),
        data={"confidence": reply.confidence, "after_approval": True},
        message_ids={"message_id": reply},
    )


def _plan_conversation(
    rng: random.Random,
    *,
    user: User,
    operator: User | None,
    channel: str,
    key: str,
    start: datetime,
    days_ago: int,
    now: datetime,
    fail_first_turn: bool,
) -> Plan:
    profile = PROFILES.get(user.username, DEFAULT_PROFILE)
    agent_type = _pick(rng, profile.agents)
    topic = rng.choice([t for t in TOPICS if t.agent_type == agent_type])
    figures = _figures(rng, user)
    script = Script(rng=rng, user=user, channel=channel, key=key, start=start)

    if channel == Channel.EMAIL:
        # Email conversations open with the morning brief; the user answers it hours later
        # (so it was read).
        script.at = start.replace(hour=rng.randint(6, 8))
        brief = script.message(
            direction=Direction.OUTBOUND,
            sender=Sender.AGENT,
            body=rng.choice(BRIEFS).format(**figures),
            status=Status.READ,
            agent_type=AgentType.PERSONAL,
            confidence=round(rng.uniform(0.86, 0.99), 2),
        )
        script.event(
            EventKind.EMAIL_SENT,
            message=brief,
            agent_type=AgentType.PERSONAL,
            duration_ms=rng.randint(150, 1200),
            data={"kind": "daily_brief"},
            message_ids={"message_id": brief},
        )
        script.wait(20 * 60, 5 * 3600)

    held = False
    complained = False
    took_over = False
    exchanges = topic.exchanges[: rng.randint(1, len(topic.exchanges))]
    for number, exchange in enumerate(exchanges):
        held = _turn(
            script,
            ask=rng.choice(exchange.asks).format(**figures),
            answer=rng.choice(exchange.answers).format(**figures),
            agent_type=topic.agent_type,
            needs_approval=exchange.needs_approval,
            fail=fail_first_turn and number == 0,
        )
        if held:
            break
        script.wait(25, 400)

    if held and days_ago >= OPEN_DAYS:
        _release(script, agent_type=topic.agent_type)
        held = False
    elif not held and operator is not None and rng.random() < 0.1:
        complained = took_over = True
        options: tuple[tuple[str, str], ...] = COMPLAINTS
        if topic.agent_type == AgentType.PAID_ADS:
            options = (*options, METRICS_COMPLAINT)
        complaint, takeover = rng.choice(options)
        script.receive(complaint)
        script.wait(120, 1500)
        script.event(
            EventKind.HUMAN_TAKEOVER,
            agent_type=topic.agent_type,
            data={"operator_id": operator.pk},
        )
        script.send(
            sender=Sender.HUMAN,
            body=takeover.format(operator=operator.first_name, **figures),
        )
    if not held and not complained and rng.random() < 0.6:
        script.wait(20, 300)
        script.receive(rng.choice(CLOSERS))

    # A conversation planned for today may run past now: slide it back so it has happened.
    latest = now - timedelta(minutes=rng.randint(2, 90))
    if script.at > latest:
        shift = script.at - latest
        for message in script.messages:
            message.created_at -= shift
        for event in script.events:
            event.at -= shift

    conversation = script.conversation
    conversation.current_agent_type = topic.agent_type
    conversation.started_at = script.messages[0].created_at
    conversation.last_activity_at = script.messages[-1].created_at
    conversation.message_count = len(script.messages)
    if held:
        conversation.status = Conversation.Status.WAITING
    elif took_over and days_ago == 0:
        conversation.status = Conversation.Status.HUMAN
    elif days_ago < OPEN_DAYS:
        conversation.status = Conversation.Status.ACTIVE
    else:
        conversation.status = Conversation.Status.CLOSED
    if complained:
        conversation.sentiment = Conversation.Sentiment.NEGATIVE
        conversation.priority = rng.choice(
            (Conversation.Priority.HIGH, Conversation.Priority.URGENT)
        )
    else:
        conversation.sentiment = rng.choices(
            (
                Conversation.Sentiment.POSITIVE,
                Conversation.Sentiment.NEUTRAL,
                Conversation.Sentiment.NEGATIVE,
                "",
            ),
            weights=(5, 4, 1, 1),
        )[0]
        conversation.priority = topic.priority
    # Outcomes as the turn engine and the rating question record them.
    if held or took_over:
        conversation.escalated_at = script.messages[-1].created_at
    if conversation.status == Conversation.Status.CLOSED:
        conversation.closed_at = conversation.last_activity_at
        if rng.random() < 0.6:
            conversation.csat_asked_at = conversation.last_activity_at
            conversation.csat_score = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 5, 6))[0]
            conversation.csat_rated_at = conversation.last_activity_at
    return Plan(key=key, conversation=conversation, messages=script.messages, events=script.events)


def _start_of(rng: random.Random, *, user: User, now: datetime, days_ago: int) -> datetime:
    """A working-hours moment in the user's own time zone, `days_ago` days before now."""
    zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    day = (now.astimezone(zone) - timedelta(days=days_ago)).date()
    moment = time(hour=rng.randint(7, 20), minute=rng.randint(0, 59), second=rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=zone)


def _seeded_keys(user: User) -> set[str]:
    return set(
        Message.objects.filter(conversation__user=user, metadata__has_key="demo")
        .values_list("metadata__demo", flat=True)
        .distinct()
    )


def _store(plans: list[Plan], *, tenant_id: int, created: Counter[str]) -> None:
    if not plans:
        return
    Conversation.objects.bulk_create([plan.conversation for plan in plans])
    messages = [message for plan in plans for message in plan.messages]
    Message.objects.bulk_create(messages, batch_size=500)
    messages_index(messages)
    events = []
    for plan in plans:
        for planned in plan.events:
            data = {**planned.data, **{k: m.pk for k, m in planned.message_ids.items()}}
            events.append(
                Event(
                    tenant_id=tenant_id,
                    kind=planned.kind,
                    conversation=plan.conversation,
                    message=planned.message,
                    channel=plan.conversation.channel,
                    agent_type=planned.agent_type,
                    duration_ms=planned.duration_ms,
                    data=data,
                    created_at=planned.at,
                )
            )
    Event.objects.bulk_create(events, batch_size=500)
    runs = [
        run
        for plan in plans
        for planned in plan.events
        if (run := _agent_run(planned, tenant_id=tenant_id, conversation=plan.conversation))
    ]
    AgentRun.objects.bulk_create(runs, batch_size=500)
    created["conversations"] += len(plans)
    created["messages"] += len(messages)
    created["events"] += len(events)


def _agent_run(
    planned: PlannedEvent, *, tenant_id: int, conversation: Conversation
) -> AgentRun | None:
    """The agent run behind a reply (sent or held) or a failed turn, for the agents' analytics."""
    first_send = planned.kind == EventKind.REPLY_SENT and not planned.data.get("after_approval")
    if not (first_send or planned.kind in (EventKind.REPLY_HELD, EventKind.TURN_FAILED)):
        return None
    failed = planned.kind == EventKind.TURN_FAILED
    message = planned.message
    tokens = 0 if failed or message is None else message.metadata.get("tokens", 0)
    return AgentRun(
        tenant_id=tenant_id,
        agent_type=planned.agent_type,
        backend=BackendKind.BUILTIN,
        conversation_id=conversation.pk,
        status=AgentRun.Status.ERROR if failed else AgentRun.Status.OK,
        error_code=planned.data.get("error", "") if failed else "",
        confidence=None if failed else planned.data.get("confidence"),
        latency_ms=planned.duration_ms or 0,
        tokens_in=tokens // 3,
        tokens_out=tokens,
        needs_review=planned.kind == EventKind.REPLY_HELD,
        created_at=planned.at,
    )


@transaction.atomic
def demo_conversations_seed(
    *, user: User, operator: User | None, now: datetime, progress: Progress
) -> Counter[str]:
    """Plan the user's whole history (so the random stream never depends on what is stored),
    store the conversations not stored yet, a week at a time. Returns the rows created."""
    rng = random.Random(f"engarde-demo:conversations:{user.username}")  # noqa: S311
    profile = PROFILES.get(user.username, DEFAULT_PROFILE)
    seeded = _seeded_keys(user)
    # The first three conversations take one channel each, so every user shows all three.
    first_channels = list(Channel.values)
    rng.shuffle(first_channels)
    created: Counter[str] = Counter()
    pending: list[Plan] = []
    planned = 0
    for done, days_ago in enumerate(range(HISTORY_DAYS - 1, -1, -1), start=1):
        # The oldest day always has a conversation, so the history spans the whole period.
        count = 1 if done == 1 else rng.choice((0, 1, 1, 2))
        for slot in range(count):
            channel = first_channels[planned] if planned < 3 else _pick(rng, profile.channels)
            planned += 1
            key = f"d{days_ago}.{slot}"
            plan = _plan_conversation(
                rng,
                user=user,
                operator=operator,
                channel=channel,
                key=key,
                start=_start_of(rng, user=user, now=now, days_ago=days_ago),
                days_ago=days_ago,
                now=now,
                # Every tenth conversation shows a turn that failed once and was retried.
                fail_first_turn=planned % 10 == 5,
            )
            if key not in seeded:
                pending.append(plan)
        if pending and (done % 7 == 0 or done == HISTORY_DAYS):
            _store(pending, tenant_id=user.member_tenant.pk, created=created)
            pending = []
            progress(f"Conversations for {user.username}: {done}/{HISTORY_DAYS} days")
    skipped = planned - created["conversations"]
    progress(
        f"Conversations for {user.username} ... ok ({created['conversations']} created, "
        f"{skipped} already there)"
    )
    return created
