from __future__ import annotations

from django.db import models


class AgentType(models.TextChoices):
    PAID_ADS = "paid_ads_optimization", "Paid Ads Marketing Agent"
    SEO = "seo_optimization", "SEO Agent"
    CONTENT = "content_generation", "Content Generation Agent"
    AUDIENCE = "audience_intelligence", "Audience Intelligence Agent"
    PERSONAL = "personal_agent_core", "Personal Agent (daily briefs)"


WALKER_AGENT_TYPES = (AgentType.PAID_ADS, AgentType.SEO, AgentType.CONTENT, AgentType.AUDIENCE)
