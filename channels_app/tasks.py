from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from channels_app.csat import csat_ask_idle
from channels_app.models import Message
from channels_app.takeover import takeovers_release_idle
from channels_app.triage import priority_alerts_send
from channels_app.turns import turns_process, turns_sweep


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def process_turn_task(message_id: int) -> int:
    """Answer the message's conversation, in order. Safe to run twice: turns are claimed."""
    conversation_id = (
        Message.objects.filter(pk=message_id).values_list("conversation_id", flat=True).first()
    )
    if conversation_id is None:
        return 0
    return turns_process(conversation_id=conversation_id)


@shared_task(acks_late=True)
def sweep_turns_task(dead_claims_only: bool = False) -> int:
    message_ids = turns_sweep(dead_claims_only=dead_claims_only)
    for message_id in message_ids:
        process_turn_task.delay(message_id)
    return len(message_ids)


@shared_task(acks_late=True)
def csat_ask_idle_task() -> int:
    """Ask for a rating in the conversations that went quiet after the agent's last word."""
    return csat_ask_idle()


@shared_task(acks_late=True)
def takeovers_release_idle_task() -> int:
    """Give back to the bot the conversations a human took over and left alone."""
    return takeovers_release_idle()


@shared_task(acks_late=True)
def priority_alerts_task() -> int:
    """Tell the team about high-priority conversations that wait for a person."""
    return priority_alerts_send()
