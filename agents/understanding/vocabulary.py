"""The words the parser knows, in one place, so a missed phrasing is fixed by adding a word.

Lists are of lowercase words as `text.WORD` splits them ("let's" is one word, "catch-all" two).
"""

from __future__ import annotations

import re


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one string: word lists read better as prose than as lists."""
    return frozenset(text.split())


# Courtesy and glue that open a message without changing what it asks.
FILLERS = wordset(
    "ok okay so now also then and please pls plz just hey hi hello alright right great cool "
    "thanks thank thx ty cheers perfect awesome nice actually well oh hmm"
)

# Function words: never part of what a name, a topic or a follow-up is about.
FUNCTION = wordset(
    "a an the my our your their its it this that these those them they he she we us i me you "
    "of on in for to by at from with about into onto across over under between through via "
    "and or but than vs versus per one ones instead same again too as each every any all both "
    "there here if whether not no else other another some own just only very really "
    "called named titled because since while until unless though although rather"
)

# Question and auxiliary words: a message made of slots plus these is still a full question.
QUESTION_WORDS = wordset(
    "what what's whats how how's which why when where who whose is isn't are aren't was were "
    "do does did didn't doesn't don't has have had can can't could would will won't should shall "
    "may might must be been being am show tell give let let's lets see know check look want need "
    "like i'd i'm i've we're we've it's that's there's much many doing going done get got "
    "current currently latest recent total overall compare compared think"
)

# Ranking and judging words, which describe a campaign without naming it.
JUDGING = wordset(
    "best worst top bottom lowest highest weakest strongest biggest smallest most least "
    "underperforming overperforming performing failing losing winning expensive cheapest "
    "good bad poor better worse main whole entire existing active paused live running "
    "ended old high low higher lower"
)
# "running" is a judging word ("the running campaigns") but also a name word ("Search -
# Running Shoes"); names.py treats it as a name word when the name has it.

# Words about time that are not a recognised period by themselves.
TIME_WORDS = wordset(
    "day days week weeks month months year years daily weekly monthly yearly today tomorrow "
    "yesterday tonight morning night hour hours period time date so far"
)

# Words in names and messages that never make a name match by themselves.
NOISE = wordset(
    "campaign campaigns ad ads advert adverts adset adsets budget budgets daily account "
    # how much, not what: "cut its budget in half"
    "half percent dollars dollar bucks"
)

# Every form of the verbs the parser reads as actions.
VERB_FORMS = wordset(
    """pause paused pauses pausing stop stopped stops stopping turn turned turning off switch
    switched shut halt halted disable disabled deactivate deactivated kill suspend suspended
    hold resume resumed resumes resuming restart restarted unpause unpaused reactivate
    reactivated reenable re enable enabled relaunch relaunched reopen reinstate bring back
    start started increase increased increases increasing raise raised raising bump bumped boost
    boosted up add added scale scaled double doubled triple tripled grow grew lift top expand put
    give more less decrease decreased decreasing lower lowered lowering reduce reduced reducing
    cut cutting drop dropped trim trimmed slash slashed halve halved set change changed make
    made adjust adjusted update updated modify cap limit publish published publishing post
    posted go went push pushed release export exported exporting download downloaded send sent
    write draft drafted create created compose generate brainstorm come craft prepare produce"""
)

# The nouns that say "a campaign", "a content item" or "a segment" is meant.
CAMPAIGN_ANCHORS = wordset("campaign campaigns ads ad adset adsets one")
CONTENT_ANCHORS = wordset(
    """draft drafts post posts article articles blog blogs email emails newsletter piece content
    video videos script scripts caption captions one"""
)
SEGMENT_ANCHORS = wordset("segment segments audience audiences list lists cohort one")

# Marketing words: they may be part of a name, but a single one of them never names anything.
GENERIC = wordset(
    """performance perform performed search traffic spend spent spending roas revenue sales
    conversions conversion clicks click impressions ranking rankings rank keyword keywords
    engagement churn risk value lifetime ltv size customers customer subscribers subscriber users
    members people audience new max top all products product results numbers growth cost costs
    cpa ctr seo organic paid social marketing shopping brand report reports summary overview
    recap brief briefing dashboard breakdown analysis stats figures data insights trend trends"""
)

# Ad products named after their platform: "google shopping" is a campaign's name, where
# "shopping" alone is too common a word to name one.
AD_PRODUCTS = wordset("shopping search brand display video")

# Platform words: the ad platform, and for content the channel.
AD_PLATFORMS = {
    "meta": "meta",
    "facebook": "meta",
    "fb": "meta",
    "instagram": "meta",
    "insta": "meta",
    "ig": "meta",
    "tiktok": "tiktok",
    "google": "google_ads",
    "adwords": "google_ads",
    "linkedin": "linkedin",
}
CHANNELS = {
    "instagram": "instagram",
    "insta": "instagram",
    "ig": "instagram",
    "facebook": "facebook",
    "fb": "facebook",
    "tiktok": "tiktok",
    "linkedin": "linkedin",
    "twitter": "twitter",
    "tweet": "twitter",
    "tweets": "twitter",
    "blog": "blog",
    "email": "email",
    "emails": "email",
    "newsletter": "email",
    "newsletters": "email",
}
PLATFORM_WORDS = frozenset(AD_PLATFORMS) | frozenset(CHANNELS) | {"tik", "tok", "youtube", "x"}

# Content kinds, singular, as the interface names them. Two-word forms come first.
CONTENT_KINDS = [
    ("blog posts", "blog"),
    ("blog post", "blog"),
    ("blog articles", "blog"),
    ("blog article", "blog"),
    ("ad copy", "ad"),
    ("email newsletter", "email"),
    ("posts", "post"),
    ("post", "post"),
    ("tweets", "post"),
    ("tweet", "post"),
    ("captions", "caption"),
    ("caption", "caption"),
    ("outlines", "outline"),
    ("outline", "outline"),
    ("blogs", "blog"),
    ("blog", "blog"),
    ("articles", "blog"),
    ("article", "blog"),
    ("emails", "email"),
    ("email", "email"),
    ("newsletters", "email"),
    ("newsletter", "email"),
    ("ads", "ad"),
    ("ad", "ad"),
]
# Nouns a content request asks for, with or without a kind of their own.
CONTENT_NOUNS = wordset(
    """post posts caption captions outline outlines blog blogs article articles email emails
    newsletter newsletters tweet tweets copy headline headlines idea ideas script scripts hashtag
    hashtags slogan slogans tagline taglines thread threads reel reels story stories
    description descriptions bio subject lines ad ads"""
)

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "couple": 2,
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "ninth": 9,
    "9th": 9,
    "tenth": 10,
    "10th": 10,
}

# Any of these makes a message about marketing. Word starts, so "convert" covers "conversions".
MARKETING = re.compile(
    r"\b(?:campaign|ads?\b|advert|budget|spen[dt]|costs?\b|roas|roi\b|return on|revenue|sales\b"
    r"|cpa\b|cpc\b|cpm\b|ctr\b|click|impression|reach\b|conversion|convert|seo\b|keyword|rank"
    r"|serp|search\b|traffic|visit|session|content|posts?\b|blog|article|caption|newsletter|emails?\b"
    r"|audience|segment|churn|customer|subscriber|buyer|ltv\b|lifetime value|perform"
    r"|marketing|engag|likes\b|followers|metric|kpi|dashboard|report|summar|overview|recap"
    r"|brief|analytic|funnel|leads?\b|organic|backlink|landing page|draft|publish|export"
    r"|promo|creative|copy\b|hashtag|influencer|retarget|lookalike|outline|tweet|caption"
    r"|meta\b|facebook|instagram|tiktok|google|adwords|linkedin|youtube|business\b|growth"
    r"|results\b|numbers\b|figures\b|stats\b|statistics|trend|purchases?\b"
    # Orders counted, not "order me a pizza".
    r"|orders\b|order (?:value|size|count|volume)s?\b|average order"
    r"|formats?\b|write about|(?:post|publish|write) next"
    # Rankings moving: "why did we drop for running jacket?"
    r"|(?:drop|dropped|fell|fall|fallen|climb|climbed|slipped) (?:for|on|in)\b"
    r"|recommend|suggestion|optimi[sz]|improve|advice|advise)"
)
# Asking for a brief: what needs attention, what changed. In scope for every agent.
BRIEFING = re.compile(
    r"\b(?:attention|focus on|priorit\w*|updates\b|(?:any|an|the|latest|quick) update\b"
    r"|what(?:'?s| is) new|anything new"
    r"|anything (?:urgent|important)|urgent|what(?:'s| has|'ve| have)? changed|catch (?:me|us) up"
    r"|should (?:i|we) (?:know|do)\b|what happened)"
)
# Whole-message performance questions that name no metric: "how are we doing?".
PERFORMANCE_SMALL_TALK = re.compile(
    r"\bhow (?:are|am|is|did|were) (?:we|i|our|my|things|business)(?: \w+)? "
    r"(?:doing|performing|going|do)\b"
)
# Never marketing, whatever else the message says.
ALWAYS_OFF_TOPIC = re.compile(r"\b(?:jokes?|riddles?|horoscopes?|lottery)\b")
# Off topic unless the message also asks for a change, for content, or names a metric or a
# known name ("write 3 posts with our summer recipes" is content).
USUALLY_OFF_TOPIC = re.compile(
    r"\b(?:weather|who won|the game|football|soccer|basketball|baseball|movies?|songs?|poems?"
    r"|recipes?|meaning of life|what time is it|ceo|founder|stock price|share price|banned)\b"
)
