"""The Walker agent catalogue, as the PRD defines it. Migrations write it to WalkerAgent rows;
nothing else does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.types import AgentType

if TYPE_CHECKING:
    from agents.models import WalkerAgent

CATALOGUE: list[dict[str, object]] = [
    {
        "agent_type": AgentType.PAID_ADS,
        "name": "Paid Ads Marketing Agent",
        "purpose": "ROAS optimization, campaign management",
        "capabilities": [
            "Budget allocation",
            "Bid optimization",
            "A/B testing",
            "Cross-platform campaigns",
        ],
        "platforms": ["Meta", "TikTok", "Google Ads", "LinkedIn"],
        "counts_toward_limit": True,
    },
    {
        "agent_type": AgentType.SEO,
        "name": "SEO Agent",
        "purpose": "Search visibility and organic traffic growth",
        "capabilities": [
            "Keyword research",
            "Technical audits",
            "Content optimization",
            "Competitor analysis",
        ],
        "platforms": ["Google Search", "Bing"],
        "counts_toward_limit": True,
    },
    {
        "agent_type": AgentType.CONTENT,
        "name": "Content Generation Agent",
        "purpose": "Multi-format content creation at scale",
        "capabilities": [
            "Social posts",
            "Blog articles",
            "Email campaigns",
            "Video scripts",
            "Cultural adaptation",
        ],
        "platforms": ["Instagram", "TikTok", "LinkedIn", "Blog", "Email"],
        "counts_toward_limit": True,
    },
    {
        "agent_type": AgentType.AUDIENCE,
        "name": "Audience Intelligence Agent",
        "purpose": "Customer insights and segmentation",
        "capabilities": [
            "RFM analysis",
            "Churn prediction",
            "LTV calculation",
            "Lookalike modeling",
        ],
        "platforms": ["CRM", "E-commerce", "Ad platforms", "Analytics"],
        "counts_toward_limit": True,
    },
    {
        "agent_type": AgentType.PERSONAL,
        "name": "Personal Agent",
        "purpose": "Daily briefs that gather every agent's view of the tenant's data",
        "capabilities": ["Daily briefs", "Action items", "Cross-agent summaries"],
        "platforms": ["Email"],
        "counts_toward_limit": False,
    },
]


def catalogue_write(walker_agent_model: type[WalkerAgent]) -> None:
    """Make the WalkerAgent rows say what CATALOGUE says (idempotent). The migrations pass
    their historical WalkerAgent, which has the same fields."""
    for entry in CATALOGUE:
        fields = {key: value for key, value in entry.items() if key != "agent_type"}
        walker_agent_model.objects.update_or_create(
            agent_type=str(entry["agent_type"]), defaults=fields
        )


def catalogue_sync_after_migrate(sender: object, **kwargs: object) -> None:
    # After every migrate (and every flush, which empties the table): definitions are code.
    if getattr(sender, "label", None) != "agents":
        return
    from agents.models import WalkerAgent

    catalogue_write(WalkerAgent)
