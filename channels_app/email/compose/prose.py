"""Prose from a Langflow flow: when the personal agent runs on one, it writes the brief's opening,
kept only if every number in it is one the brief states."""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal

from agents.services import agent_execute
from agents.types import BackendKind
from channels_app.email.compose.brief import Brief
from channels_app.email.compose.data import TenantBriefData

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# The brief's links carry signed tokens whose digits are no figure of the brief's.
LINK = re.compile(r"https?://\S+")


def numbers_in(text: str) -> set[Decimal]:
    return {Decimal(match.replace(",", "")) for match in NUMBER.findall(text)}


def prose_wanted(data: TenantBriefData) -> bool:
    """Whether the personal agent runs on a Langflow flow, which then writes the brief's prose."""
    instance = data.personal
    return bool(instance and instance.enabled and instance.backend == BackendKind.LANGFLOW)


def brief_prose(brief: Brief, data: TenantBriefData, stated: str) -> str:
    """The flow writes the brief's opening from its facts. Its prose is kept only if every
    number in it is one the brief states (`stated`, the brief's own text): the figures come from
    the data, never from the model."""
    instance = data.personal
    assert instance is not None
    message = json.dumps({"intent": "daily_brief", "brief": brief.facts()})
    result, _run = agent_execute(instance=instance, message=message)
    if not result.ok:
        logger.info("brief prose for user %s: flow failed (%s)", brief.user_id, result.error)
        return ""
    allowed = numbers_in(LINK.sub(" ", stated)) | numbers_in(brief.brief_date.isoformat())
    invented = numbers_in(result.text) - allowed
    if invented:
        logger.warning(
            "brief prose for user %s dropped: %d number(s) not in the brief",
            brief.user_id,
            len(invented),
        )
        return ""
    return result.text.strip()
