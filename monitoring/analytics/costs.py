"""What the agents and WhatsApp cost: the PRD's price per WhatsApp message by tier, and the cost
of one conversation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from accounts.models import SubscriptionTier, Tenant
from agents.models import AgentRun
from channels_app.models import Channel, Conversation, Message

# The PRD's "Rate Limits and Quotas" table. Enterprise says "custom pricing": until a contract's
# price is recorded, Enterprise is priced as Business, the lowest list price.
WHATSAPP_PRICE_USD: dict[str, Decimal] = {
    SubscriptionTier.FREE: Decimal("0.005"),
    SubscriptionTier.STARTER: Decimal("0.005"),
    SubscriptionTier.PROFESSIONAL: Decimal("0.0045"),
    SubscriptionTier.BUSINESS: Decimal("0.004"),
    SubscriptionTier.ENTERPRISE: Decimal("0.004"),
}
# A WhatsApp message is billed when it is received, or sent: not while held, nor when it failed.
WHATSAPP_BILLED = Q(channel=Channel.WHATSAPP) & (
    Q(direction=Message.Direction.INBOUND)
    | ~Q(delivery_status__in=[Message.DeliveryStatus.HELD, Message.DeliveryStatus.FAILED])
)


def whatsapp_price(tenant: Tenant) -> Decimal:
    return WHATSAPP_PRICE_USD[tenant.tier]


@dataclass(frozen=True)
class ConversationCost:
    agent_usd: Decimal
    whatsapp_messages: int
    whatsapp_usd: Decimal

    @property
    def total_usd(self) -> Decimal:
        return self.agent_usd + self.whatsapp_usd


def conversation_cost(conversation: Conversation) -> ConversationCost:
    """What one conversation has cost so far: its agent runs, and its WhatsApp messages at the
    tenant's current price. Two indexed queries, whatever the conversation's length."""
    agent = AgentRun.objects.filter(conversation=conversation).aggregate(cost=Sum("cost_usd"))
    billed = Message.objects.filter(conversation=conversation).aggregate(
        n=Count("id", filter=WHATSAPP_BILLED)
    )["n"]
    return ConversationCost(
        agent_usd=agent["cost"] or Decimal(0),
        whatsapp_messages=billed,
        whatsapp_usd=billed * whatsapp_price(conversation.tenant),
    )
