"""What the WhatsApp channel does with what Twilio sends it, and what an admin sends through it.

Inbound (`whatsapp_inbound_process`), in this order:
1. An unmapped sender gets one polite reply a day and nothing is stored about them.
2. A retried delivery (same MessageSid) does nothing at all: no row, no count, no reply.
3. STOP / START / HELP are stored without a turn, change the consent and are confirmed.
4. An opted-out person's other messages are stored without a turn and get no answer.
5. Over the tenant's daily quota, the message is stored without a turn and the person is told,
   once a day.
6. Otherwise the message is stored and its turn enqueued on commit (`message_receive`).

Replies decided here (keywords, quota, unmapped) are sent synchronously, straight to the address
the person wrote from, through `whatsapp_send_direct`. That path skips the transport's consent
check on purpose: the STOP confirmation is the one message an opted-out person still gets. Every
other caller of it checks consent first. The keyword and quota replies are stored as replies to
the inbound message and sent only by the request that stored the inbound one, so a retried
webhook never sends them twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Tenant, User
from accounts.services import phone_number_lookup
from agents.models import AgentInstance
from channels_app.events import EventKind, event_record
from channels_app.inbound import InboundMedia, InboundMessage, conversation_for, message_receive
from channels_app.live import status_published
from channels_app.models import Channel, Message
from channels_app.outbound import message_deliver, message_store
from channels_app.transports import SendResult, TransportError
from channels_app.whatsapp.transport import STATUSES, WhatsAppTransport
from privacy.consent import consent_record
from privacy.fields import phone_index
from privacy.masking import mask_text
from privacy.models import ConsentRecord

logger = logging.getLogger(__name__)

UNMAPPED_REPLY = (
    "This number isn't linked to an En Garde account yet. Ask your workspace admin to add it."
)
UNMAPPED_REPLY_EVERY = timedelta(hours=24)
STOP_REPLY = (
    "You're unsubscribed from En Garde's WhatsApp messages and won't get any more. "
    "Reply START to resume."
)
START_REPLY = (
    "Welcome back! You'll hear from En Garde's agents on WhatsApp again. "
    "Reply HELP for help or STOP to unsubscribe."
)
QUOTA_REPLY = (
    "Your workspace has used today's {limit:,} WhatsApp messages; the agents will answer again "
    "tomorrow (UTC). Your message was saved."
)
# Counters live a little longer than their UTC day, so a late message near midnight still
# finds its day's count.
QUOTA_COUNTER_TTL = int(timedelta(days=2).total_seconds())
MAX_MESSAGE_CHARS = 1600  # Twilio's limit on a message body

# Twilio's status callbacks name phone numbers in some error messages; error_message is stored
# in clear.


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}
# "yes" is also a person's everyday answer to an agent's question: only someone who opted out
# means it as START.
OPT_IN_ONLY_WHEN_OUT = frozenset({"YES", "UNSTOP"})


class Outcome(StrEnum):
    ANSWERING = "answering"  # stored, turn enqueued
    DUPLICATE = "duplicate"
    UNMAPPED = "unmapped"
    KEYWORD = "keyword"
    OPTED_OUT = "opted_out"
    OVER_QUOTA = "over_quota"


@dataclass(frozen=True)
class WhatsAppInbound:
    """What the webhook read from Twilio's form. ProfileName is deliberately absent: it is a
    person's name, and nothing here needs it."""

    sender: str  # Twilio's From, "whatsapp:+14155550101"
    provider_id: str  # MessageSid
    text: str
    media: tuple[InboundMedia, ...] = ()


# Sending outside the transport


_direct = WhatsAppTransport()


def whatsapp_send_direct(*, to: str, body: str, ref: str) -> SendResult:
    return _direct.send_direct(to=to, body=body, ref=ref)


def _reply_send(*, reply: Message, to: str) -> None:
    """Send a stored reply to the address the person wrote from, recorded as any delivery is."""
    message_deliver(
        message=reply,
        send=lambda message: whatsapp_send_direct(to=to, body=message.body, ref=str(message.pk)),
    )


# Inbound


# Written as SQL: the same subqueries built by the ORM (Exists, OuterRef) cost more to build,
# relabelling and copying the inner queries, than the round trips they save. Every value is a
# bound parameter.
_ALREADY_STORED = (
    'EXISTS (SELECT 1 FROM "channels_app_message" WHERE "channel" = %s AND "provider_id" = %s)'
)
_OPTED_OUT = (
    'EXISTS (SELECT 1 FROM "privacy_channelconsent" consent WHERE consent."user_id" = '
    '"accounts_userphonenumber"."user_id" AND consent."channel" = %s AND consent."opted_out")'
)
BOOLEAN: BooleanField[bool, bool] = BooleanField()


def whatsapp_inbound_process(*, inbound: WhatsAppInbound) -> Outcome:
    # The sender, whether this delivery is stored already (the cheap answer to Twilio's
    # retries, before anything is counted) and whether they opted out: one round trip.
    phone = phone_number_lookup(
        inbound.sender,
        already_stored=RawSQL(  # noqa: S611
            _ALREADY_STORED, (Channel.WHATSAPP, inbound.provider_id), BOOLEAN
        ),
        opted_out=RawSQL(_OPTED_OUT, (Channel.WHATSAPP,), BOOLEAN),  # noqa: S611
    )
    tenant = phone.user.tenant if phone is not None else None
    if phone is None or tenant is None:
        unmapped_reply(sender=inbound.sender)
        return Outcome.UNMAPPED
    user = phone.user
    if vars(phone)["already_stored"]:
        return Outcome.DUPLICATE

    opted_out = bool(vars(phone)["opted_out"])
    keyword = keyword_of(inbound.text, opted_out=opted_out)
    limit = tenant.limits.whatsapp_messages_per_day
    number = quota_count(tenant=tenant) if limit is not None else 0
    over_quota = limit is not None and number > limit
    if keyword is not None:
        outcome = Outcome.KEYWORD
    elif opted_out:
        outcome = Outcome.OPTED_OUT
    elif over_quota:
        outcome = Outcome.OVER_QUOTA
    else:
        outcome = Outcome.ANSWERING

    received_at = timezone.now()
    reply: Message | None = None
    # A reply decided here is stored with the message, in its transaction; a message without
    # one needs no transaction but message_receive's own.
    replying = keyword is not None or outcome == Outcome.OVER_QUOTA
    with transaction.atomic() if replying else nullcontext():
        result = message_receive(
            InboundMessage(
                tenant=tenant,
                user=user,
                channel=Channel.WHATSAPP,
                provider_id=inbound.provider_id,
                text=inbound.text,
                media=inbound.media,
                received_at=received_at,
            ),
            start_turn=outcome == Outcome.ANSWERING,
        )
        if not result.created:
            # A concurrent retry stored it a moment ago and counted it already.
            if limit is not None:
                quota_uncount(tenant=tenant)
            return Outcome.DUPLICATE
        message = result.message
        if keyword is not None:
            reply = _keyword_apply(keyword=keyword, message=message, user=user, at=received_at)
        elif outcome == Outcome.OVER_QUOTA and limit is not None:
            reply = _quota_notice(message=message, user=user, limit=limit, number=number)
    if reply is not None:
        _reply_send(reply=reply, to=inbound.sender)
    logger.info("whatsapp inbound: tenant=%s message=%s outcome=%s", tenant.pk, message.pk, outcome)
    return outcome


def keyword_of(text: str, *, opted_out: bool) -> Keyword | None:
    word = text.strip().rstrip(".!").strip().upper()
    keyword = KEYWORDS.get(word)
    if word in OPT_IN_ONLY_WHEN_OUT and not opted_out:
        return None
    return keyword


def help_text(*, tenant: Tenant) -> str:
    names = list(
        AgentInstance.objects.filter(tenant=tenant, enabled=True)
        .order_by("agent_id")
        .values_list("agent__name", flat=True)
    )
    agents = (
        f"Your workspace's agents here: {', '.join(names)}."
        if names
        else "Your workspace has no agent enabled yet; ask your admin."
    )
    return (
        f"En Garde: ask about your marketing and the right agent answers. {agents} "
        "Reply STOP to unsubscribe, START to resume."
    )


def _keyword_apply(*, keyword: Keyword, message: Message, user: User, at: datetime) -> Message:
    tenant = message.conversation.tenant
    changed = False
    if keyword in (Keyword.STOP, Keyword.START):
        changed = consent_record(
            user=user,
            channel=Channel.WHATSAPP,
            purpose=ConsentRecord.Purpose.CONVERSATIONS,
            granted=keyword == Keyword.START,
            source=ConsentRecord.Source.WHATSAPP_KEYWORD,
            at=at,
        )
    if keyword == Keyword.STOP:
        body = STOP_REPLY
    elif keyword == Keyword.START:
        body = START_REPLY
    else:
        body = help_text(tenant=tenant)
    reply = _reply_store(message=message, body=body, kind=f"keyword_{keyword}")
    event_record(
        tenant=tenant,
        kind=EventKind.WHATSAPP_KEYWORD,
        conversation=message.conversation,
        message=message,
        data={"keyword": str(keyword), "consent_changed": changed},
    )
    return reply


def _reply_store(*, message: Message, body: str, kind: str) -> Message:
    return message_store(
        conversation=message.conversation,
        sender_kind=Message.SenderKind.SYSTEM,
        body=body,
        reply_to=message,
        metadata={"system": kind},
    )


# Unmapped numbers


def unmapped_reply(*, sender: str) -> bool:
    """Tell an unknown number, at most once a day, that it is not linked; True when told.

    Nothing is stored about them: the rate limit is a cache key named by the number's blind
    index, which is also all the log says about them.
    """
    try:
        index = phone_index(sender)
    except ValidationError:
        logger.info("whatsapp inbound from an unreadable sender address; ignored")
        return False
    key = f"whatsapp:unmapped:{index}"
    ref = f"unmapped:{index[:16]}"
    # Without the cache the only way to rate-limit would be to store the number: stay silent.
    if not _claim(key, timeout=UNMAPPED_REPLY_EVERY, fallback=lambda: False):
        logger.info("whatsapp inbound from an unmapped number %s: already told today", ref)
        return False
    try:
        whatsapp_send_direct(to=sender, body=UNMAPPED_REPLY, ref=ref)
    except TransportError as exc:
        # Let the next message try again rather than stay silent for a day.
        _cache_delete(key)
        logger.warning("whatsapp unmapped reply to %s failed: code=%s", ref, exc.code)
        return False
    logger.info("whatsapp inbound from an unmapped number %s: told it is not linked", ref)
    return True


# Quota


def _day_key(prefix: str, *parts: object) -> str:
    day = timezone.now().date().isoformat()  # UTC: timezone.now() is aware and in UTC
    return ":".join(str(p) for p in (prefix, *parts, day))


def _received_today(tenant: Tenant) -> int:
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return Message.objects.filter(
        conversation__tenant_id=tenant.pk,
        channel=Channel.WHATSAPP,
        direction=Message.Direction.INBOUND,
        delivery_status=Message.DeliveryStatus.RECEIVED,
        created_at__gte=start,
    ).count()


def quota_count(*, tenant: Tenant) -> int:
    """Count one more inbound WhatsApp message for the tenant today (UTC); its number today.

    A cache counter, seeded from the database the first time each day; the database count is
    the answer when the cache is unreachable.
    """
    key = _day_key("whatsapp:quota", tenant.pk)
    try:
        try:
            return int(cache.incr(key))
        except ValueError:  # no counter yet today (or it was evicted)
            cache.add(key, _received_today(tenant), timeout=QUOTA_COUNTER_TTL)
            return int(cache.incr(key))
    except Exception:
        # The cache only makes counting cheap; an outage must not lose the message.
        logger.warning("whatsapp quota: cache unavailable, counting in the database")
        return _received_today(tenant) + 1


def quota_uncount(*, tenant: Tenant) -> None:
    try:
        cache.decr(_day_key("whatsapp:quota", tenant.pk))
    except Exception:
        logger.warning("whatsapp quota: could not take back a count")


def _quota_notice(*, message: Message, user: User, limit: int, number: int) -> Message | None:
    """The day's one quota reply to this person, stored as a reply to their message."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)

    def told_today() -> bool:
        return Message.objects.filter(
            conversation__user_id=user.pk,
            channel=Channel.WHATSAPP,
            sender_kind=Message.SenderKind.SYSTEM,
            metadata__system="quota",
            created_at__gte=start,
        ).exists()

    key = _day_key("whatsapp:quota-notice", user.tenant_id, user.pk)
    if not _claim(key, timeout=timedelta(days=2), fallback=lambda: not told_today()):
        return None
    reply = _reply_store(message=message, body=QUOTA_REPLY.format(limit=limit), kind="quota")
    event_record(
        tenant=message.conversation.tenant,
        kind=EventKind.WHATSAPP_QUOTA,
        conversation=message.conversation,
        message=message,
        data={"limit": limit, "count": number},
    )
    return reply


def _claim(key: str, *, timeout: timedelta, fallback: Callable[[], bool]) -> bool:
    """Take a once-only token from the cache; `fallback` decides when the cache is down."""
    try:
        return bool(cache.add(key, 1, timeout=int(timeout.total_seconds())))
    except Exception:
        logger.warning("whatsapp: cache unavailable for a once-only reply")
        return fallback()


def _cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("whatsapp: cache unavailable")


# Status callbacks

# Forward only: each status may replace only those before it. `failed` is final and replaces
# only what was not yet delivered; a `read` or `delivered` arriving after it leaves it failed,
# and a late `failed`/`undelivered` never undoes a delivery.
_REPLACES: dict[str, tuple[str, ...]] = {
    Message.DeliveryStatus.QUEUED: (),
    Message.DeliveryStatus.SENT: (Message.DeliveryStatus.QUEUED,),
    Message.DeliveryStatus.DELIVERED: (Message.DeliveryStatus.QUEUED, Message.DeliveryStatus.SENT),
    Message.DeliveryStatus.READ: (
        Message.DeliveryStatus.QUEUED,
        Message.DeliveryStatus.SENT,
        Message.DeliveryStatus.DELIVERED,
    ),
    Message.DeliveryStatus.FAILED: (Message.DeliveryStatus.QUEUED, Message.DeliveryStatus.SENT),
}


def delivery_status_update(
    *, provider_id: str, provider_status: str, error_code: str = "", error_message: str = ""
) -> bool:
    """Apply one of Twilio's status callbacks; True when the message's status moved.

    The move is one conditional UPDATE on the statuses it may replace, so two callbacks racing
    each other can never move a message backwards.
    """
    status = STATUSES.get(provider_status.strip().lower())
    if status is None:
        logger.info("whatsapp status: unknown status %r for %s", provider_status[:32], provider_id)
        return False
    message = (
        Message.objects.select_related("conversation__tenant")
        .filter(
            channel=Channel.WHATSAPP,
            direction=Message.Direction.OUTBOUND,
            provider_id=provider_id,
        )
        .first()
    )
    if message is None:
        logger.info("whatsapp status: no message with sid %s (status %s)", provider_id, status)
        return False
    changes: dict[str, Any] = {"delivery_status": status}
    if status == Message.DeliveryStatus.FAILED:
        changes["error_code"] = (error_code or provider_status)[:32]
        changes["error_message"] = mask_text(error_message)[:300]
    moved = Message.objects.filter(pk=message.pk, delivery_status__in=_REPLACES[status]).update(
        **changes
    )
    if not moved:
        logger.info(
            "whatsapp status: message %s stays %s (callback said %s)",
            message.pk,
            message.delivery_status,
            status,
        )
        return False
    status_published(message, tenant_id=message.conversation.tenant_id, status=status)
    event_record(
        tenant=message.conversation.tenant,
        kind=EventKind.DELIVERY_UPDATED,
        conversation=message.conversation,
        message=message,
        data={
            "status": status,
            "provider_status": provider_status[:32],
            **({"error_code": changes["error_code"]} if "error_code" in changes else {}),
        },
    )
    return True


# Admin sends


def recipient_find(*, tenant: Tenant, to: str) -> User | None:
    """A user of the tenant named by id (digits) or WhatsApp number (anything else)."""
    if to.isdecimal():
        return (
            User.objects.for_tenant(tenant)
            .filter(pk=int(to), is_active=True, is_deleted=False)
            .first()
        )
    phone = phone_number_lookup(to)
    if phone is None or phone.user.tenant_id != tenant.pk:
        return None
    return phone.user


def whatsapp_admin_send(*, sender: User, recipient: User, text: str) -> Message:
    """A message written by a person of the console, sent to the recipient's WhatsApp
    conversation through the transport (its window and consent rules). The result, sent or
    failed with its reason, is on the returned message."""
    with transaction.atomic():
        conversation = conversation_for(user=recipient, channel=Channel.WHATSAPP, at=timezone.now())
        message = message_store(
            conversation=conversation,
            sender_kind=Message.SenderKind.HUMAN,
            body=text,
            # Labelled as the person who wrote it, as a human operator's reply is.
            metadata={
                "sent_by": sender.pk,
                "operator_id": sender.pk,
                "operator_name": sender.first_name or sender.username,
            },
        )
    message_deliver(message=message)
    message.refresh_from_db()
    return message
