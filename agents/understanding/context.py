"""What the conversation already established: the person's earlier messages, understood in turn,
fill what the new one leaves out ("and on TikTok?", "the second one"), and "do it" takes up what
the agent last suggested."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from django.utils import timezone

from agents.backends.base import AgentContext
from agents.understanding import Intent, Names, Request, names_for, understand

# How many of the person's earlier messages are read for context.
EARLIER = 3
# How the agents word a suggestion in a reply: "💡 Suggestion: <title>." and "Suggested: <...>".
TIP = re.compile(r"💡 Suggestion: (?P<title>.+?)\. Nothing changes")
# The agents' question when "do it" could mean several suggestions.
WHICH = "Which one should I go ahead with?"
SUGGESTED = re.compile(r"Suggested: (?P<title>.+?)(?:\. |\.$|: |$)", re.M)


def request_in_context(
    message: str, context: AgentContext, *, names: Names, today: date, agent_type: str
) -> Request:
    previous = None
    earlier = [m.text for m in context.messages if m.role == "user"][-EARLIER:]
    for text in earlier:
        previous = understand(
            text, names=names, today=today, previous=previous, agent_type=agent_type
        )
    request = understand(
        message, names=names, today=today, previous=previous, agent_type=agent_type
    )
    if not (request.confirm or request.choice):
        return request
    suggested = last_suggestions(context)
    if not suggested or (
        request.choice and previous and previous.campaign and previous.campaign.candidates
    ):
        return request
    index = (request.choice or 1) - 1
    if request.confirm and not request.choice and len(suggested) > 1:
        # "Do it" after several suggestions: a command whose action the agent must ask for.
        return replace(request, intent=Intent.COMMAND, verb=None, campaign=None)
    if not 0 <= index < len(suggested):
        return request
    taken = understand(suggested[index], names=names, today=today, agent_type=agent_type)
    if taken.intent != Intent.COMMAND:
        return request
    return replace(taken, text=message, follow_up=True, confirm=True)


def last_suggestions(context: AgentContext) -> list[str]:
    """What the agent's last reply suggested, as titles ("Raise X's daily budget to $480"); past
    a "which one?" of its own, the reply before it."""
    for earlier in reversed(context.messages):
        if earlier.role != "agent":
            continue
        tips = [m.group("title") for m in TIP.finditer(earlier.text)]
        tips = tips or [m.group("title") for m in SUGGESTED.finditer(earlier.text)]
        if tips:
            return tips
        if not earlier.text.startswith(WHICH):
            return []
        # "Which one should I go ahead with?": the suggestions are the reply before it.
    return []


def message_understood(message: str, context: AgentContext, *, agent_type: str) -> Request:
    """The message as an agent answering it reads it: with the tenant's names, its today, and
    what the conversation established."""
    return request_in_context(
        message,
        context,
        names=names_for(context.tenant),
        today=timezone.localdate(),
        agent_type=agent_type,
    )
