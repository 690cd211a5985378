"""The content agent's writing: the posts, captions or outline asked for, as drafts, and
"publish the draft about ..." as a publish action.

Drafts are templates filled from the tenant's own rows: the topic asked, the products their
best posts name, and the channel's habits (hashtags on Instagram and TikTok, none on LinkedIn).
Nothing is stored or published: a draft is text for a person to take; publishing a stored item
is an action a person may have to approve.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounts.models import Tenant
from agents import selectors
from agents.backends.base import ProposedAction
from agents.backends.builtin.common import Answer, not_found
from agents.models import ContentItem
from agents.types import ActionType
from agents.understanding import Request

DEFAULT_COUNT = 3
EVER = date(1970, 1, 1)  # every published piece counts when picking topics and products
MAX_COUNT = 10
HASHTAG_CHANNELS = frozenset({"instagram", "tiktok", "twitter", "facebook"})

# Openings and calls to action, cycled so that several posts do not read alike.
HOOKS = (
    "{Topic} is here.",
    "Ready for {topic}?",
    "Three words: {topic}.",
    "This one's for everyone who asked about {topic}.",
    "We saved the best for {topic}.",
    "{Topic}, the way you've been waiting for.",
)
CALLS = (
    "Tap the link in our bio to see it all.",
    "Tag someone who needs this.",
    "Save this post for later.",
    "Tell us in the comments what you'd pick.",
    "Don't wait: it won't last.",
)


def draft(tenant: Tenant, request: Request) -> Answer:
    """The pieces asked for, numbered, as drafts."""
    kind = request.content_kind or "post"
    single = kind in {"outline", "blog", "email"}
    wanted = min(request.count or (1 if single else DEFAULT_COUNT), MAX_COUNT)
    topic = request.topic or _best_topic(tenant)
    if not topic:
        return Answer(
            "What should they be about? Tell me the topic, for example “3 Instagram posts "
            "about our winter sale”.",
            {"content_kind": kind},
        )
    channel = request.channel or "instagram"
    products = _products(tenant, topic)
    if kind in {"outline", "blog"}:
        text = _outline(topic, products)
    else:
        pieces = [_piece(kind, channel, topic, products, n) for n in range(wanted)]
        label = "caption" if kind == "caption" else kind
        plural = "s" if wanted > 1 else ""
        where = "" if channel == label else f"{channel.title()} "  # not "1 Email email"
        heading = f"{wanted} {where}{label}{plural} about {topic}, as drafts:"
        text = heading + "\n" + "\n".join(f"{n}. {piece}" for n, piece in enumerate(pieces, 1))
    text += "\n\nThey are drafts: edit them as you like; nothing is posted until you publish it."
    return Answer(
        text,
        {
            "content_kind": kind,
            "count": wanted,
            "channel": channel,
            "topic": topic,
            "products": products,
        },
    )


def _best_topic(tenant: Tenant) -> str:
    items = selectors.published_content(tenant, since=EVER)
    topics = [item.topic for item in sorted(items, key=_engagement, reverse=True) if item.topic]
    return topics[0] if topics else ""


def _engagement(item: ContentItem) -> Decimal:
    return Decimal(item.engagements) / Decimal(item.impressions) if item.impressions else Decimal(0)


def _products(tenant: Tenant, topic: str) -> list[str]:
    """Titles of the tenant's best published pieces on the topic (or overall), to name in copy."""
    items = selectors.published_content(tenant, since=EVER)
    on_topic = [item for item in items if topic.lower() in (item.topic or "").lower()]
    ranked = sorted(on_topic or items, key=_engagement, reverse=True)
    return [item.title for item in ranked[:2]]


def _hashtags(topic: str, channel: str) -> str:
    if channel not in HASHTAG_CHANNELS:
        return ""
    words = [w for w in topic.replace("-", " ").split() if w.isalnum()]
    tag = "".join(w.capitalize() for w in words)
    return f" #{tag}" if tag else ""


def _piece(kind: str, channel: str, topic: str, products: list[str], n: int) -> str:
    hook = HOOKS[n % len(HOOKS)].format(topic=topic, Topic=topic[:1].upper() + topic[1:])
    call = CALLS[n % len(CALLS)]
    mention = f" Loved by our community: “{products[n % len(products)]}”." if products else ""
    if kind == "caption":
        return f"{hook}{mention}{_hashtags(topic, channel)}"
    return f"{hook}{mention} {call}{_hashtags(topic, channel)}"


def _outline(topic: str, products: list[str]) -> str:
    title = topic[:1].upper() + topic[1:]
    lines = [
        f"Outline: {title}: what to know",
        "1. Why it matters now: the question your readers ask.",
        f"2. The essentials of {topic}, in three points.",
        "3. Mistakes to avoid, with one example each.",
    ]
    if products:
        lines.append(f"4. What we'd recommend: {', '.join(products)}.")
    lines.append(f"{len(lines)}. Wrap-up and a call to action.")
    return "\n".join(lines)


def publish(tenant: Tenant, request: Request) -> Answer:
    """ "Publish the draft about ...": one requested publish action, or the question to ask."""
    match = request.content
    if match is None or (not match.found and not match.candidates and not match.asked):
        ready = selectors.unpublished_content(tenant)[:5]
        listed = "; ".join(f"“{item.title}”" for item in ready) or "none"
        return Answer(
            f"Which piece should I publish? Ready to go: {listed}.",
            {"candidates": [item.title for item in ready]},
        )
    if match.candidates:
        listed = "; ".join(f"{n}. “{c.name}”" for n, c in enumerate(match.candidates, 1))
        return Answer(
            f"Which one should I publish? {listed}.",
            {"candidates": [c.name for c in match.candidates]},
        )
    if match.found is None:
        return Answer(not_found("a piece", match, quoted=True), {"unknown": match.asked})
    item = ContentItem.objects.for_tenant(tenant).filter(pk=match.found.id).first()
    if item is None:
        return Answer("That piece no longer exists.", {"unknown": match.asked})
    if item.status == ContentItem.Status.PUBLISHED:
        return Answer(f"“{item.title}” is published already.", {"content": item.title})
    action = ProposedAction(
        action_type=ActionType.CONTENT_PUBLISH,
        title=f"Publish '{item.title}' now",
        description=f"Publish '{item.title}' on {item.channel} now, as you asked.",
        data={"content_id": item.pk, "channel": item.channel},
        estimated_cost=Decimal("0.00"),
        rationale={"asked": "publish", "status": item.status},
        requested=True,
    )
    return Answer(
        f"Publishing “{item.title}” on {item.channel}.",
        {"content": item.title, "channel": item.channel},
        actions=[action],
    )
