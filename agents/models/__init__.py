from agents.models.catalogue import AgentInstance, AgentSettings, WalkerAgent
from agents.models.marketing import (
    AudienceSegment,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    Platform,
    SegmentDay,
)
from agents.models.runs import AgentRun

__all__ = [
    "AgentInstance",
    "AgentRun",
    "AgentSettings",
    "AudienceSegment",
    "Campaign",
    "CampaignDay",
    "ContentItem",
    "KeywordRanking",
    "PageTraffic",
    "Platform",
    "SegmentDay",
    "WalkerAgent",
]
