"""Which Walker agent answers a message.

Three signals, strongest first:

1. **Explicit addressing** ("ask the SEO agent ...", "@content ...", "audience agent: ...") wins
   outright with confidence 1.0. A small table of regexes is right here: addressing is syntax.
2. **The intent classifier**: TF-IDF over word 1-2 grams and character 2-5 grams, then a
   multinomial logistic regression, trained at first use on ``routing_data/train.jsonl``. Besides
   the four agents it learns a ``none`` class (greetings, chit-chat, account questions), so text
   with no marketing topic gets a low probability for every agent instead of a confident guess.
3. **The conversation prior**: when the conversation already has an agent, its probability is
   multiplied by a factor that grows with how much the message reads like a follow-up (short,
   opens with "and"/"what about"/"ok", points back with "that"/"it"/"the second one"), and the
   ``none`` mass, the part the classifier could not place on any topic, is handed to it too.
   The same follow-up score flattens the classifier's probabilities (few words, weak evidence).
   A message with strong topic words for another agent still outweighs the prior, so
   "now write three captions" in a paid-ads conversation goes to the content agent.
   Without a current agent, recent messages that clearly had one topic stand in for it.

A request for a human is scored separately (``human_request_score``): it does not change which
agent is best placed, only whether a person should step in.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from agents.types import WALKER_AGENT_TYPES, AgentType

DATA_DIR = Path(__file__).resolve().parent / "routing_data"
TRAIN_PATH = DATA_DIR / "train.jsonl"
EVAL_PATH = DATA_DIR / "eval.jsonl"

AGENTS: tuple[str, ...] = tuple(agent.value for agent in WALKER_AGENT_TYPES)
# The training label for messages that belong to no agent; never returned as an agent type.
NO_TOPIC = "none"

# Long pastes (a whole email thread) carry no more intent than their first few paragraphs, and
# bounding the text bounds the work every regex and the vectorizer do per message.
MAX_CHARS = 4000

# Inverse regularisation strength of the logistic regression, chosen by 5-fold cross-validation
# on the training set. At C=10 only 85% of the correct held-out predictions cleared the policy's
# 0.6 threshold; at 30, 90%. Log loss keeps falling slowly beyond that, but larger values push
# off-topic text the training set never saw ("who is the president") to confident guesses.
CLASSIFIER_C = 30.0

# The conversation prior multiplies the current agent's probability by
# exp(PRIOR_BASE + PRIOR_FOLLOW_UP * follow_up_score): x2 for any message (conversations tend to
# stay on topic) up to about x15 for a bare "and yesterday?".
PRIOR_BASE = math.log(2.0)
PRIOR_FOLLOW_UP = 2.0
# A follow-up's few words are weak evidence, yet a single platform name gets the classifier to
# 0.9 ("and on TikTok?" is paid ads to it, while in a content conversation it asks for a TikTok
# version). Its probabilities are raised to 1 - TEMPER * follow_up_score, flattening them as
# the message leans more on the conversation.
TEMPER = 0.5

# At or above this a message asks for a person (see human_request_score).
HUMAN_THRESHOLD = 1.0


@dataclass(frozen=True)
class RouteContext:
    current_agent: str | None = None
    recent_messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteDecision:
    agent_type: str
    confidence: float
    needs_human: bool
    reason: str  # "explicit" | "follow_up" | "classifier" | "default"


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def load_examples(path: Path) -> list[dict[str, object]]:
    """The JSON objects of a JSONL file, blank lines skipped; errors name the line."""
    rows: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path.name}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path.name}:{number}: expected an object with a text")
            rows.append(row)
    return rows


def training_examples(path: Path = TRAIN_PATH) -> list[Example]:
    examples = []
    for row in load_examples(path):
        label = row.get("label")
        if label not in (*AGENTS, NO_TOPIC):
            raise ValueError(f"{path.name}: unknown label {label!r} for {row['text']!r}")
        examples.append(Example(text=str(row["text"]), label=str(label)))
    return examples


# --- the classifier ---------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lowercase, accents folded, every number one token: "$500/day" and "$300/day" are the same
    request, and "a/b test" and "ab test" the same test."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\ba\s*/\s*b\b", "ab", text)
    return re.sub(r"\d+(?:[.,]\d+)?", "0", text)


# scikit-learn's default drops one-character tokens, and with them "0", the number token.
WORD_PATTERN = r"(?u)\b\w+\b"


def build_pipeline(c: float = CLASSIFIER_C) -> Pipeline:
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    preprocessor=normalise,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=WORD_PATTERN,
                ),
            ),
            # Character n-grams within word boundaries survive typos ("campain", "rankngs") and
            # share evidence between inflections ("segment", "segmentation").
            (
                "chars",
                TfidfVectorizer(
                    preprocessor=normalise,
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=2,
                ),
            ),
        ]
    )
    # newton-cg converges in a handful of iterations here; lbfgs took 0.6 to 4.5 s on a busy
    # two-core machine for the same model, and training happens on a user's first message.
    model = LogisticRegression(C=c, solver="newton-cg", max_iter=1000)
    return Pipeline([("features", features), ("model", model)])


class IntentClassifier:
    """Probabilities over the four agents and ``none`` for one message."""

    def __init__(self, examples: Sequence[Example], c: float = CLASSIFIER_C) -> None:
        if not examples:
            raise ValueError("no training examples")
        self._pipeline = build_pipeline(c)
        self._pipeline.fit([e.text for e in examples], [e.label for e in examples])
        self.classes: tuple[str, ...] = tuple(str(c) for c in self._pipeline.classes_)

    def probabilities(self, text: str) -> dict[str, float]:
        """Every agent and ``none`` gets a key, zero for a class absent from the training set."""
        row = self._pipeline.predict_proba([text])[0]
        probs = dict.fromkeys((*AGENTS, NO_TOPIC), 0.0)
        probs.update({label: float(p) for label, p in zip(self.classes, row, strict=True)})
        return probs

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The most likely agent (never ``none``) for each text."""
        out = []
        for text in texts:
            probs = self.probabilities(text)
            out.append(max(AGENTS, key=probs.__getitem__))
        return out


_classifier: IntentClassifier | None = None
_classifier_lock = threading.Lock()


def get_classifier() -> IntentClassifier:
    """The classifier trained on the repository's training set, once per process."""
    global _classifier
    if _classifier is None:
        with _classifier_lock:
            if _classifier is None:
                _classifier = IntentClassifier(training_examples())
    return _classifier


# --- explicit addressing ----------------------------------------------------------------------

# Names people give each agent, longest first so "paid ads" wins over "ads".
ALIASES: dict[str, tuple[str, ...]] = {
    AgentType.PAID_ADS.value: (
        "paid ads optimization",
        "paid ads marketing",
        "performance marketing",
        "media buying",
        "paid media",
        "paid social",
        "paid ads",
        "paid ad",
        "campaigns",
        "campaign",
        "advertising",
        "paid",
        "ppc",
        "ads",
        "ad",
    ),
    AgentType.SEO.value: (
        "search engine optimization",
        "search engine optimisation",
        "seo optimization",
        "organic search",
        "search engine",
        "organic",
        "search",
        "seo",
    ),
    AgentType.CONTENT.value: (
        "content generation",
        "content creation",
        "copywriting",
        "copywriter",
        "content",
        "writing",
        "writer",
        "copy",
    ),
    AgentType.AUDIENCE.value: (
        "audience intelligence",
        "customer intelligence",
        "customer insights",
        "customer insight",
        "segmentation",
        "audiences",
        "audience",
        "segments",
        "segment",
        "insights",
        "crm",
    ),
}


def _alias_group(names: Iterable[str]) -> str:
    # "paid ads", "paid-ads", "paid_ads" and "paidads" are the same name.
    return "|".join(re.escape(n).replace(r"\ ", r"[\s_-]?") for n in names)


_AGENT_WORD = r"(?:walker\s+)?(?:agent|bot|assistant|specialist|expert)s?"
# What may follow a bare alias after a switching verb: the end of the message or of a clause,
# so "switch to seo please" switches but "switch budget to search campaigns" does not.
_CLAUSE_END = (
    r"(?=\s*(?:$|[,.:;!?()\-\u2013\u2014]|please\b|pls\b|plz\b|now\b|for\b|and\b|then\b|so\b"
    r"|real quick\b|quickly\b|again\b|instead\b|mode\b))"
)


def _explicit_patterns(alias: str) -> tuple[re.Pattern[str], ...]:
    a = f"(?:{alias})"
    return (
        # "@seo", "@paid_ads"
        re.compile(rf"(?<!\w)@\s?{a}\b"),
        # "seo: ...", "audience agent - ...", "hey ads agent, ..."
        re.compile(
            rf"^\W*(?:(?:hey|hi|hello|yo|ok|okay|dear)\b\W*)?(?:the\s+)?{a}"
            rf"(?:\s+{_AGENT_WORD})?\s*[:\-\u2013\u2014]"
        ),
        re.compile(rf"^\W*(?:(?:hey|hi|hello|yo|ok|okay|dear)\b\W*)?{a}\s+{_AGENT_WORD}\s*,"),
        # "ask the seo agent", "let me talk to the ads bot", "get the writer agent to ..."
        re.compile(
            rf"(?<!from\s)(?<!not\s)(?<!than\s)(?<!of\s)\b(?:the|your|an?|my|to|ask|get|have|"
            rf"ping|use|try|want|need|call)\s+{a}[\s-]+{_AGENT_WORD}\b"
        ),
        # "switch to seo", "go back to the content agent", "over to ads please"
        re.compile(
            rf"\b(?:switch|swap|change|go|move|jump|come|get|hand\s+(?:this|it|me)|"
            rf"pass\s+(?:this|it|me)|send\s+(?:this|it|me)|route\s+(?:this|it|me)|"
            rf"transfer\s+(?:this|it|me)|put\s+me|connect\s+me|take\s+me)\s+"
            rf"(?:back\s+)?(?:over\s+)?(?:through\s+)?(?:to|with)\s+(?:the\s+)?{a}{_CLAUSE_END}"
        ),
        re.compile(rf"^\W*(?:ok\W+|okay\W+)?(?:back|over)\s+to\s+(?:the\s+)?{a}{_CLAUSE_END}"),
        # "ask seo about the rankings", "ask content to rewrite it"
        re.compile(
            rf"\bask\s+(?:the\s+)?{a}\s+(?:about|if|whether|why|what|how|to|for|when|which)\b"
        ),
    )


_EXPLICIT: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = tuple(
    (agent, _explicit_patterns(_alias_group(names))) for agent, names in ALIASES.items()
)


def explicit_agent(text: str) -> str | None:
    """The agent the message addresses by name, if any. When it names two ("switch from the
    seo agent to the content agent"), the one named last is where the person wants to go."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    best: tuple[int, str] | None = None
    for agent, patterns in _EXPLICIT:
        for pattern in patterns:
            for match in pattern.finditer(lowered):
                if best is None or match.start() > best[0]:
                    best = (match.start(), agent)
    return best[1] if best else None


# --- requests for a human ---------------------------------------------------------------------

# (pattern, weight, kind). "who" weights add up to at most 1.0 ("someone from your support
# team"); of the other kinds only the strongest match counts, so "can I please talk to" is one
# request however it is phrased, and the false friends ("not") subtract. A weak "who" alone is
# not enough: "someone told me rankings dropped" is not a request, "get me someone" is.
_HUMAN_LEXICON: tuple[tuple[re.Pattern[str], float, str], ...] = tuple(
    (re.compile(p), w, k)
    for p, w, k in (
        # Who: nouns that name a person on our side.
        (r"\bhumans?\b", 1.0, "who"),
        (r"\b(?:real|actual|live|living|proper)\s+(?:person|people|human|agent|one)\b", 1.0, "who"),
        (r"\b(?:some|any)(?:one|body)\s+(?:real|human|alive)\b", 1.0, "who"),
        (r"\b(?:representative|rep)\b", 0.8, "who"),
        (r"\boperator\b(?!s)", 0.8, "who"),
        (r"\b(?:human|live|support|service|customer\s+care)\s+agent\b", 1.0, "who"),
        # "agent" alone is ambiguous here ("the seo agent please"): only as the whole message.
        (r"^\W*(?:an?\s+|the\s+)?agent\W*(?:please|pls|plz|now)?\W*$", 1.0, "who"),
        (r"\b(?:to|with|for)\s+an?\s+agent\b", 0.6, "who"),
        (r"\b(?:person|somebody|someone|anyone|anybody)\b", 0.4, "who"),
        (r"\b(?:support|helpdesk|help\s+desk|customer\s+(?:service|support|care))\b", 0.4, "who"),
        (
            r"\b(?:account|success)\s+manager\b|\ba\s+manager\b|\byour\s+(?:team|staff)\b",
            0.4,
            "who",
        ),
        (
            r"\b(?:support|service|care|success|help)\s+(?:team|staff|desk|people|folks)\b",
            0.4,
            "who",
        ),
        (r"\bpeople\b", 0.3, "who"),
        # Asking: verbs of reaching someone.
        (
            r"\b(?:talk|speak|chat|communicate)\s+(?:to|with)\b|\bconnect\s+me\b|\bput\s+me\s+"
            r"through\b|\btransfer\s+me\b|\bescalat\w*\b|\bhand\s+me\s+over\b|\bget\s+me\b|"
            r"\breach\s+(?:a|an|some|your)\b|\bcall\s+me\b|\bcontact\s+(?:a|an|some|your)\b",
            0.4,
            "ask",
        ),
        (
            r"\b(?:i\s+(?:want|need|would\s+like)|i'd\s+like|let\s+me|can\s+i|could\s+i)\b",
            0.2,
            "ask",
        ),
        # Frustration with the bot.
        (
            r"\b(?:not|no)\s+(?:a\s+|another\s+|more\s+)?(?:bot|machine|ai)\b|\b(?:this|stupid|"
            r"useless|dumb)\s+(?:bot|ai|machine)\b|\bstop\s+the\s+bot\b|\bare\s+you\s+(?:a\s+)?"
            r"(?:bot|robot|real|human)\b",
            0.4,
            "bot",
        ),
        # False friends: the words above in marketing talk.
        (r"\bhuman\s+(?:resources|capital|touch|element|side|interest|error)\b", -1.0, "not"),
        (r"\b(?:more|less|very|so|sound|sounds|feel|feels|felt)\s+human\b", -1.0, "not"),
        (r"\bhuman[\s-]+(?:sounding|centric|centred|centered|like|written|voice)\b", -1.0, "not"),
        (r"\bhumani[sz]", -1.0, "not"),
        (
            r"\bpersonas?\b|\bper\s+person\b|\bin\s+person\b|\b(?:people|person)\s+reached\b",
            -0.6,
            "not",
        ),
        (
            r"\b(?:people|someone|somebody|anyone|customers)\s+(?:who|that|which|whose)\b",
            -0.6,
            "not",
        ),
        (r"\b(?:tour|telecom|mobile|network)\s+operators?\b|\bhr\b", -1.0, "not"),
    )
)

# A message of a few words that is nothing but a "who" is itself the request: "representative".
_SHORT_REQUEST_WORDS = 4
_SHORT_REQUEST_BONUS = 0.3


def human_request_score(text: str) -> float:
    lowered = unicodedata.normalize("NFKC", text).lower()
    best: dict[str, float] = {}
    who_total = 0.0
    for pattern, weight, kind in _HUMAN_LEXICON:
        if not pattern.search(lowered):
            continue
        if kind == "who":
            who_total += weight
        elif kind == "not":
            best[kind] = min(best.get(kind, 0.0), weight)
        else:
            best[kind] = max(best.get(kind, 0.0), weight)
    if who_total == 0.0:
        return 0.0
    score = min(who_total, 1.0) + sum(best.values())
    if len(re.findall(r"\w+", lowered)) <= _SHORT_REQUEST_WORDS:
        score += _SHORT_REQUEST_BONUS
    return score


def needs_human(text: str) -> bool:
    return human_request_score(text) >= HUMAN_THRESHOLD


# --- follow-ups -------------------------------------------------------------------------------

_FOLLOW_UP_OPENER = re.compile(
    r"^\W*(?:and|also|plus|but|so|then|ok|okay|k|kk|alright|right|yes|yeah|yep|yup|sure|no|nope|"
    r"thanks|thank\s+you|thx|ty|cheers|cool|great|perfect|nice|awesome|love\s+it|hmm+|why|how\s+come|"
    r"what\s+about|how\s+about|what\s+abt|same|again|compared|vs|versus|more|another|go\s+ahead|"
    r"do\s+it|sounds\s+good|interesting|wait|hm)\b"
)
_FOLLOW_UP_REFERENCE = re.compile(
    r"\b(?:that|this|it|those|these|them|they|their|there|one|ones|above|previous|same|again|"
    r"instead|too|either|first|second|third|last\s+one|the\s+rest|other)\b"
)
_FOLLOW_UP_ELABORATE = re.compile(
    r"\b(?:break\w*\s+(?:\w+\s+)?down|elaborat\w*|expand|more\s+detail\w*|details?|drill\w*|"
    r"dig\w*|deeper|explain|why|go\s+on|continue|shorter|longer|simpler|another|version|compare\w*|"
    r"else|next|list|full|apply|proceed)\b"
)


def _follow_up_cues(lowered: str) -> float:
    score = 0.0
    if _FOLLOW_UP_OPENER.search(lowered):
        score += 0.5
    if _FOLLOW_UP_REFERENCE.search(lowered):
        score += 0.3
    if _FOLLOW_UP_ELABORATE.search(lowered):
        score += 0.3
    return score


def follow_up_score(text: str) -> float:
    """0..1: how much the message leans on what was said before rather than standing alone.
    Shortness counts too: "and tiktok?" needs the conversation to mean anything."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    words = len(re.findall(r"\w+", lowered))
    score = _follow_up_cues(lowered)
    if words <= 4:
        score += 0.3
    elif words <= 8:
        score += 0.15
    return min(score, 1.0)


def blend_with_current(probs: dict[str, float], current: str, follow_up: float) -> dict[str, float]:
    """Agent probabilities after the conversation prior (see the module docstring)."""
    factor = math.exp(PRIOR_BASE + PRIOR_FOLLOW_UP * follow_up)
    power = 1.0 - TEMPER * follow_up
    weighted = {
        label: p**power * (factor if label == current else 1.0) for label, p in probs.items()
    }
    total = sum(weighted.values()) or 1.0
    blended = {agent: weighted[agent] / total for agent in AGENTS}
    blended[current] += weighted.get(NO_TOPIC, 0.0) / total
    return blended


# --- routing ----------------------------------------------------------------------------------

# Recent messages stand in for a missing current agent only when they clearly had one topic.
_RECENT_TOPIC_MIN = 0.5
_RECENT_WINDOW = 3


def _conversation_agent(context: RouteContext, classifier: IntentClassifier) -> str | None:
    if context.current_agent in AGENTS:
        return context.current_agent
    recent = [m for m in context.recent_messages[-_RECENT_WINDOW:] if m and m.strip()]
    if not recent:
        return None
    probs = classifier.probabilities(" ".join(recent)[-MAX_CHARS:])
    agent = max(AGENTS, key=probs.__getitem__)
    return agent if probs[agent] >= _RECENT_TOPIC_MIN else None


def route(message: str, context: RouteContext | None = None) -> RouteDecision:
    if not isinstance(message, str) or not message.strip():
        raise ValueError("message is empty")
    text = message.strip()[:MAX_CHARS]
    context = context or RouteContext()
    human = needs_human(text)

    addressed = explicit_agent(text)
    if addressed is not None:
        return RouteDecision(addressed, 1.0, human, "explicit")

    classifier = get_classifier()
    probs = classifier.probabilities(text)
    current = _conversation_agent(context, classifier)
    if current is None:
        agent = max(AGENTS, key=probs.__getitem__)
        return RouteDecision(agent, round(probs[agent], 4), human, "classifier")

    # Asking for a person is about this conversation, not a new topic: it leans on the current
    # agent as much as "and yesterday?" does. Topic words in it ("a human about my Meta spend")
    # can still move it.
    follow_up = 1.0 if human else follow_up_score(text)
    blended = blend_with_current(probs, current, follow_up)
    # Ties go to the current agent: max keeps the first of equal keys.
    agent = max((current, *(a for a in AGENTS if a != current)), key=blended.__getitem__)
    if agent != current:
        reason = "classifier"
    elif max(probs, key=probs.__getitem__) == NO_TOPIC and not _follow_up_cues(text.lower()):
        # Nothing in the message pointed anywhere ("hi"): staying is a default, not a reading.
        reason = "default"
    else:
        reason = "follow_up"
    return RouteDecision(agent, round(blended[agent], 4), human, reason)
