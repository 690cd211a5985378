"""The turn engine: one inbound message answered, exactly once, in order (DESIGN.md, "One
message's life", steps 3 to 6). Every channel's inbound messages end here.

A worker claims a conversation's earliest unfinished message under a lock on the conversation
row, and only when no other worker is answering one of its messages: turns of one conversation
run one at a time, so replies go out in the order the messages came in. The worker renews its
claim while it answers (channels_app/claims.py); a claim not renewed for TURN_LEASE_SECONDS
belongs to a worker that died, and the next worker (or the sweep) takes it over.
The reply is unique per inbound message in the database, so a turn that runs again after a crash
finds the reply it already wrote and only delivers what was not yet sent.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agents.backends.base import CONTEXT_MESSAGES, ContextMessage
from agents.models import AgentInstance
from agents.router import RouteContext, route
from agents.services import agent_execute, agent_settings_for
from channels_app.claims import claim_kept
from channels_app.csat import csat_ask_after, csat_record
from channels_app.events import EventKind, event_record
from channels_app.models import Conversation, Message, TurnState
from channels_app.outbound import message_deliver, message_store
from channels_app.policy import approval_notice, hold_reasons, holding_message
from channels_app.search_index import messages_index
from hitl.models import HELD_REPLY, Approval, HoldReason
from hitl.services import approval_execute, approval_request

logger = logging.getLogger(__name__)

ROLES = {
    Message.SenderKind.USER: "user",
    Message.SenderKind.AGENT: "agent",
    Message.SenderKind.HUMAN: "human",
    Message.SenderKind.SYSTEM: "system",
}
UNFINISHED = (TurnState.PENDING, TurnState.CLAIMED)


def turn_claim_next(conversation_id: int) -> Message | None:
    now = timezone.now()
    fresh = now - timedelta(seconds=settings.TURN_LEASE_SECONDS)
    with transaction.atomic():
        if not Conversation.objects.select_for_update().filter(pk=conversation_id).exists():
            return None
        unfinished = Message.objects.filter(
            conversation_id=conversation_id,
            direction=Message.Direction.INBOUND,
            turn_state__in=UNFINISHED,
        )
        if unfinished.filter(turn_state=TurnState.CLAIMED, claimed_at__gt=fresh).exists():
            return None  # another worker is answering this conversation; it will go on
        message = unfinished.order_by("created_at", "id").first()
        if message is None:
            return None
        Message.objects.filter(pk=message.pk).update(turn_state=TurnState.CLAIMED, claimed_at=now)
    message.turn_state, message.claimed_at = TurnState.CLAIMED, now
    return message


def turns_process(*, conversation_id: int) -> int:
    """Answer a conversation's unfinished messages in order; the number answered."""
    answered = 0
    while (message := turn_claim_next(conversation_id)) is not None:
        try:
            with claim_kept(message):
                turn_answer(message=message)
        except Exception:
            # Give the message back so that the retry (or the sweep) answers it.
            Message.objects.filter(pk=message.pk, turn_state=TurnState.CLAIMED).update(
                turn_state=TurnState.PENDING, claimed_at=None
            )
            raise
        answered += 1
    return answered


def context_for(message: Message) -> list[ContextMessage]:
    earlier = (
        Message.objects.filter(conversation_id=message.conversation_id)
        .filter(
            Q(created_at__lt=message.created_at)
            | Q(created_at=message.created_at, id__lt=message.id)
        )
        .exclude(delivery_status=Message.DeliveryStatus.HELD)
        .order_by("-created_at", "-id")[:CONTEXT_MESSAGES]
    )
    return [ContextMessage(role=ROLES[m.sender_kind], text=m.body) for m in reversed(earlier)]


def turn_answer(*, message: Message) -> None:
    conversation = Conversation.objects.select_related("tenant", "user").get(
        pk=message.conversation_id
    )
    tenant = conversation.tenant
    answered = message.replies.filter(
        Q(sender_kind=Message.SenderKind.AGENT) | Q(metadata__csat="thanks")
    ).exists()
    if conversation.status == Conversation.Status.HUMAN and not answered:
        # Taken over after this message arrived: the human answers it, the bot drafts nothing.
        Message.objects.filter(pk=message.pk).update(turn_state=TurnState.SKIPPED)
        return
    # A rating the person was asked for is recorded and thanked; the agent never sees it.
    if not answered and not csat_record(message=message, conversation=conversation):
        _think(message=message, conversation=conversation)
        if not message.replies.filter(delivery_status=Message.DeliveryStatus.HELD).exists():
            csat_ask_after(message=message, conversation=conversation)
    # Sends that an earlier, dead run of this turn claimed are ours now: the turns of one
    # conversation never overlap, and this one was claimed after they were.
    for outbound in message.replies.filter(
        delivery_status=Message.DeliveryStatus.QUEUED, provider_id__isnull=True
    ).order_by("created_at", "id"):
        message_deliver(message=outbound, stale_before=message.claimed_at)
    # Actions the policy let through run after the reply that proposed them has gone out, so
    # the person reads the proposal before the notice that it was carried out. A run of this
    # turn after a crash finds them already claimed.
    for approval_id in Approval.objects.filter(
        message__reply_to=message,
        status=Approval.Status.AUTO_APPROVED,
        execution_status=Approval.Execution.PENDING,
    ).values_list("pk", flat=True):
        approval_execute(approval_id=approval_id)
    Message.objects.filter(pk=message.pk).update(turn_state=TurnState.DONE)
    logger.info("turn done: tenant=%s message=%s", tenant.pk, message.pk)


def _think(*, message: Message, conversation: Conversation) -> None:
    tenant = conversation.tenant
    started = time.perf_counter()
    decision = route(
        message.body or "(media)",
        RouteContext(current_agent=conversation.current_agent_type or None),
    )
    event_record(
        tenant=tenant,
        kind=EventKind.AGENT_ROUTED,
        conversation=conversation,
        message=message,
        agent_type=decision.agent_type,
        duration_ms=int((time.perf_counter() - started) * 1000),
        data={
            "confidence": decision.confidence,
            "reason": decision.reason,
            "needs_human": decision.needs_human,
        },
    )
    if conversation.current_agent_type != decision.agent_type:
        conversation.current_agent_type = decision.agent_type
        conversation.save(update_fields=["current_agent_type"])

    instance = AgentInstance.objects.select_related("agent", "tenant").get(
        tenant=tenant, agent__agent_type=decision.agent_type
    )
    if not instance.enabled:
        _reply_system(
            message=message,
            conversation=conversation,
            body=(
                f"The {instance.agent.name} isn't part of your workspace's plan yet. Ask your "
                "admin to enable it, or ask me about something else."
            ),
        )
        return
    result, run = agent_execute(
        instance=instance,
        message=message.body,
        history=context_for(message),
        conversation_id=conversation.pk,
        session_id=f"conversation-{conversation.pk}",
    )
    agent_settings = agent_settings_for(tenant)
    reasons = hold_reasons(
        result=result, decision=decision, agent_settings=agent_settings, conversation=conversation
    )
    now = timezone.now()
    response_ms = int((now - message.created_at).total_seconds() * 1000)
    try:
        with transaction.atomic():
            reply = message_store(
                conversation=conversation,
                reply_to=message,
                sender_kind=Message.SenderKind.AGENT,
                body=result.text,
                agent_type=decision.agent_type,
                confidence=result.confidence if result.ok else None,
                response_time_ms=response_ms,
                delivery_status=(
                    Message.DeliveryStatus.HELD if reasons else Message.DeliveryStatus.QUEUED
                ),
                metadata={
                    "run_id": run.pk,
                    "actions": [action.as_dict() for action in result.actions],
                    # What the agent read in the message: the explainer shows it to approvers.
                    "understood": understood(result.metadata),
                    **({"error": result.error} if result.error else {}),
                },
            )
            if reasons:
                _hold(
                    message=message,
                    reply=reply,
                    conversation=conversation,
                    reasons=reasons,
                    response_ms=response_ms,
                )
            # Each proposed action becomes an approval: hitl scores it, and either lets it run
            # (low risk, as the tenant's mode allows) or puts it in front of its approvers. Only
            # what the person asked for may run alone: the agent's own suggestions always wait
            # for a person, and so does everything of a reply held for doubt about the answer
            # itself (low confidence, a takeover, a request for a human). A reply that goes out
            # says what awaits whom.
            notices = []
            for action in result.actions:
                approval = approval_request(
                    tenant=tenant,
                    action_type=action.action_type,
                    title=action.title,
                    action_data={
                        **action.data,
                        "description": action.description,
                        "rationale": action.rationale,
                        "requested": action.requested,
                    },
                    hold_reasons=[HoldReason.ACTION],
                    conversation=conversation,
                    message=reply,
                    requested_by=conversation.user,
                    requested_by_agent=reply.agent_type,
                    estimated_cost=action.estimated_cost,
                    estimated_reach=action.estimated_reach,
                    execute=False,
                    auto_approve=not reasons and action.requested,
                )
                if approval.is_open:
                    notices.append(approval_notice(approval))
            if notices and not reasons:
                reply.body = "\n\n".join([reply.body, *notices])
                reply.save(update_fields=["body"])
                messages_index([reply])
    except IntegrityError:
        # A concurrent run of this turn stored its reply first; deliver that one.
        return
    if not result.ok:
        event_record(
            tenant=tenant,
            kind=EventKind.TURN_FAILED,
            conversation=conversation,
            message=message,
            agent_type=decision.agent_type,
            duration_ms=run.latency_ms,
            data={"error": result.error, "run_id": run.pk},
        )


def understood(metadata: dict[str, Any]) -> dict[str, Any]:
    request = metadata.get("request") or {}
    scope, period = metadata.get("scope") or {}, metadata.get("period") or {}
    return {
        "intent": request.get("intent"),
        "verb": request.get("verb"),
        "scope": scope.get("label") if isinstance(scope, dict) else None,
        "period": period.get("label") if isinstance(period, dict) else None,
    }


def _hold(
    *,
    message: Message,
    reply: Message,
    conversation: Conversation,
    reasons: list[str],
    response_ms: int,
) -> None:
    tenant = conversation.tenant
    approval_request(
        tenant=tenant,
        action_type=HELD_REPLY,
        title=f"Held reply: {', '.join(HoldReason(r).label.lower() for r in reasons)}"[:200],
        action_data={"reply_message_id": reply.pk, "inbound_message_id": message.pk},
        hold_reasons=reasons,
        conversation=conversation,
        message=reply,
        requested_by_agent=reply.agent_type,
    )
    if conversation.status != Conversation.Status.HUMAN:
        Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.WAITING)
    # The first time a human is needed is when it escalated (analytics' escalation rate).
    Conversation.objects.filter(pk=conversation.pk, escalated_at__isnull=True).update(
        escalated_at=timezone.now()
    )
    event_record(
        tenant=tenant,
        kind=EventKind.REPLY_HELD,
        conversation=conversation,
        message=reply,
        agent_type=reply.agent_type,
        duration_ms=response_ms,
        data={"reasons": reasons, "confidence": reply.confidence},
    )
    text = holding_message(reasons)
    if text:
        message_store(
            conversation=conversation,
            reply_to=message,
            sender_kind=Message.SenderKind.SYSTEM,
            body=text,
        )


def _reply_system(*, message: Message, conversation: Conversation, body: str) -> None:
    # Stored as the turn's agent reply so that a re-run does not say it twice.
    try:
        with transaction.atomic():
            message_store(
                conversation=conversation,
                reply_to=message,
                sender_kind=Message.SenderKind.AGENT,
                body=body,
                metadata={"system": "agent_not_enabled"},
            )
    except IntegrityError:
        return


def turns_sweep(*, dead_claims_only: bool = False) -> list[int]:
    """Inbound messages that no turn finished in time: the earliest of each conversation, to be
    enqueued again. A lost enqueue, a dead worker, a broker outage all end here.
    `dead_claims_only`: only the claims no live worker renewed, the frequent check that has a
    killed worker's conversation answered within seconds."""
    now = timezone.now()
    lease = now - timedelta(seconds=settings.TURN_LEASE_SECONDS)
    stuck = Q(turn_state=TurnState.CLAIMED, claimed_at__lt=lease)
    if not dead_claims_only:
        waiting = now - timedelta(seconds=settings.TURN_SWEEP_AFTER_SECONDS)
        stuck |= Q(turn_state=TurnState.PENDING, created_at__lt=waiting)
    rows = (
        Message.objects.filter(direction=Message.Direction.INBOUND)
        .filter(stuck)
        .order_by("conversation_id", "created_at", "id")
        .values_list("conversation_id", "id")[: settings.TURN_SWEEP_BATCH]
    )
    first: dict[int, int] = {}
    for conversation_id, message_id in rows:
        first.setdefault(conversation_id, message_id)
    return list(first.values())
