from __future__ import annotations

from django.db import models


class AgentType(models.TextChoices):
    PAID_ADS = "paid_ads_optimization", "Paid Ads Marketing Agent"
    SEO = "seo_optimization", "SEO Agent"
    CONTENT = "content_generation", "Content Generation Agent"
    AUDIENCE = "audience_intelligence", "Audience Intelligence Agent"
    PERSONAL = "personal_agent_core", "Personal Agent (daily briefs)"


WALKER_AGENT_TYPES = (AgentType.PAID_ADS, AgentType.SEO, AgentType.CONTENT, AgentType.AUDIENCE)


class AgentMode(models.TextChoices):
    """How much the agents may do alone (seed 002): every reply reviewed, risky actions
    reviewed, or only what the risk policy holds."""

    MANUAL = "manual", "Manual (every reply is reviewed)"
    SEMI_AUTO = "semi_auto", "Semi-auto (risky actions are reviewed)"
    AUTO = "auto", "Auto (only what policy holds is reviewed)"


class BackendKind(models.TextChoices):
    BUILTIN = "builtin", "Built-in (answers from the tenant's data)"
    LANGFLOW = "langflow", "Langflow flow"


class ActionType(models.TextChoices):
    BUDGET_INCREASE = "budget_increase", "Budget increase"
    BUDGET_ALLOCATION = "budget_allocation", "Budget allocation"
    CAMPAIGN_PAUSE = "campaign_pause", "Pause campaign"
    CAMPAIGN_RESUME = "campaign_resume", "Resume campaign"
    CAMPAIGN_DELETE = "campaign_delete", "Delete campaign"
    CONTENT_PUBLISH = "content_publish", "Publish content"
    DATA_EXPORT = "data_export", "Data export"


DEFAULT_CONFIDENCE_THRESHOLD = 0.6
