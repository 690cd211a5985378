"""What a message asks for: a change (a verb at the head of a clause), content, or figures.

A verb counts only where a request puts it: first in a clause, after courtesy ("ok, please")
and polite leads ("can you", "I want to"). So "pause the lookalike campaign" and "could you
pause it?" are commands, while "should I pause it?", "why did spend increase?" and "which
campaigns should I increase?" are questions: there the verb follows a question word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from agents.understanding.amounts import COUNTED
from agents.understanding.request import Verb
from agents.understanding.text import Token, lower, tokens_of
from agents.understanding.vocabulary import (
    CONTENT_NOUNS,
    FILLERS,
    NUMBER_WORDS,
    ORDINALS,
    wordset,
)

AFFIRMATIONS = wordset("yes yeah yep yup sure absolutely definitely")
OPENERS = FILLERS | AFFIRMATIONS
# Polite leads before a verb; longest first so "can you please" wins over "can you".
LEADS = sorted(
    (
        tuple(lead.split())
        for lead in [
            "would you mind",
            "would you please",
            "could you please",
            "can you please",
            "can you",
            "could you",
            "would you",
            "will you",
            "can u",
            "could u",
            "can we",
            "could we",
            "i want you to",
            "i want to",
            "i wanna",
            "we want to",
            "i'd like you to",
            "i'd like to",
            "i would like you to",
            "i would like to",
            "we'd like to",
            "i need you to",
            "i need to",
            "we need to",
            "let's",
            "lets",
            "let us",
            "go ahead and",
            "help me",
            "time to",
            "please",
            "kindly",
            "just",
            "try to",
            "make sure to",
            "remember to",
        ]
    ),
    key=len,
    reverse=True,
)
# Leads before a content noun with no verb: "I need 3 captions for ...".
CONTENT_LEADS = [
    ("i", "need"),
    ("we", "need"),
    ("i", "want"),
    ("can", "i", "get"),
    ("can", "i", "have"),
    ("could", "i", "get"),
    ("could", "i", "have"),
    ("can", "you", "do"),
    ("need",),
    ("i'm", "looking", "for"),
]
CONTENT_VERBS = wordset(
    "write draft create compose generate brainstorm craft prepare produce make suggest "
    "come give rewrite"
)
SIMPLE_VERBS = {
    **dict.fromkeys(wordset("pause stop halt disable deactivate kill suspend"), Verb.PAUSE),
    **dict.fromkeys(
        wordset("resume restart unpause reactivate reenable relaunch reopen reinstate enable"),
        Verb.RESUME,
    ),
    **dict.fromkeys(wordset("increase raise boost lift grow expand double triple up"), Verb.RAISE),
    **dict.fromkeys(wordset("decrease lower reduce cut trim slash halve lessen"), Verb.LOWER),
    **dict.fromkeys(wordset("set change adjust update modify cap limit"), Verb.SET),
    **dict.fromkeys(wordset("publish release"), Verb.PUBLISH),
    **dict.fromkeys(wordset("export download"), Verb.EXPORT),
}
POSTABLE = wordset("it that this the our my them these those")
EXPORTABLE = wordset("list lists csv file spreadsheet export segment segments audience")
MONEY_OR_NUMBER = re.compile(r"\d")
CLAUSES = re.compile(r"[^.!?;,:\n]+")
THEN = re.compile(r"\s+(?:and then|then)\s+")


@dataclass(frozen=True)
class Action:
    verb: Verb | None = None
    # Where the verb is in the text: names right after it are anchored, and its word ("post")
    # is not a content kind.
    verb_start: int | None = None
    verb_end: int | None = None
    content: bool = False
    affirmed: bool = False  # opened with "yes" / "sure": agreeing to what the agent proposed


def read_action(text: str) -> Action:
    """The first clause that asks for a change or for content decides; questions don't."""
    lowered = lower(text)
    affirmed = False  # "yes, pause it": the "yes" is a clause of its own
    for clause in CLAUSES.finditer(lowered):
        start = clause.start()
        for part in THEN.split(clause.group()):
            offset = lowered.index(part, start) if part else start
            tokens = tokens_of(part)
            tokens = [Token(t.word, t.start + offset, t.end + offset, t.index) for t in tokens]
            action = _clause(tokens)
            affirmed = affirmed or action.affirmed
            if action.verb or action.content:
                return replace(action, affirmed=affirmed)
            start = offset + len(part)
    return Action(affirmed=affirmed)


def _clause(tokens: list[Token]) -> Action:
    said = [token.word for token in tokens]
    at, affirmed = 0, False
    mind = False
    while at < len(said):
        if said[at] in OPENERS:
            affirmed = affirmed or said[at] in AFFIRMATIONS or said[at] in ("ok", "okay")
            at += 1
            continue
        lead = next((lead for lead in LEADS if tuple(said[at : at + len(lead)]) == lead), None)
        if lead is None:
            break
        mind = mind or lead == ("would", "you", "mind")
        at += len(lead)
    if at >= len(said):
        return Action()
    rest = said[at:]
    if _asks_content(rest):
        return Action(content=True, affirmed=affirmed)
    word = _base(rest[0]) if mind else rest[0]
    verb, used = _verb(word, rest[1:], " ".join(rest))
    if verb is None:
        return Action(affirmed=affirmed)
    return Action(
        verb=verb,
        verb_start=tokens[at].start,
        verb_end=tokens[at + used - 1].end,
        affirmed=affirmed,
    )


def _base(word: str) -> str:
    """ "pausing" -> "pause", "stopping" -> "stop" (after "would you mind")."""
    if not word.endswith("ing"):
        return word
    stem = word[:-3]
    for guess in (stem, stem + "e", stem[:-1]):
        if guess in SIMPLE_VERBS or guess in ("turn", "switch", "shut", "put", "bump", "scale"):
            return guess
    return word


def _verb(word: str, after: list[str], clause: str) -> tuple[Verb | None, int]:
    """The verb a clause opens with, and how many words it takes ("turn off" is two)."""
    if word in ("turn", "switch", "shut"):
        if "off" in after or "down" in after:
            return Verb.PAUSE, 1
        if "on" in after:
            return Verb.RESUME, 1
        if "up" in after:
            return Verb.RAISE, 1
        return None, 1
    if word == "re" and after[:1] and after[0] in ("enable", "activate", "start", "launch"):
        return Verb.RESUME, 2
    if word == "un" and after[:1] == ["pause"]:
        return Verb.RESUME, 2
    if word == "start" and ("again" in after or after[:1] == ["back"]):
        return Verb.RESUME, 1
    if word == "bring" and "back" in after:
        return Verb.RESUME, 1
    if word in ("bump", "scale"):
        return (Verb.LOWER if {"down", "back"} & set(after) else Verb.RAISE), 1
    if word == "top" and after[:1] == ["up"]:
        return Verb.RAISE, 2
    if word == "add" and (MONEY_OR_NUMBER.search(clause) or "budget" in after):
        return Verb.RAISE, 1
    if word == "take" and "off" in after and MONEY_OR_NUMBER.search(clause):
        return Verb.LOWER, 1  # "take $50 off the brand budget"
    if word == "drop":
        money = MONEY_OR_NUMBER.search(clause) or "budget" in after
        return (Verb.LOWER if money else Verb.PAUSE), 1
    if word == "put":
        return _put(after, clause), 1
    if word == "give" and "more" in after:
        return Verb.RAISE, 1
    if word == "make" and MONEY_OR_NUMBER.search(clause):
        return Verb.SET, 1
    if word in ("go", "push") and "live" in after:
        return Verb.PUBLISH, 1
    if word == "post" and after[:1] and after[0] in POSTABLE:
        return Verb.PUBLISH, 1  # "post it", "post the draft"; not "post performance"
    if word == "set" and after[:1] == ["up"]:
        return None, 1  # "set up a campaign" creates, which no verb here does
    if word in ("update", "brief") and after[:1] in (["me"], ["us"]):
        return None, 1  # "update me on ...": a question, not a change
    if word in ("send", "email", "get", "pull", "give", "gimme") and EXPORTABLE & set(after):
        return Verb.EXPORT, 1
    return SIMPLE_VERBS.get(word), 1


def _put(after: list[str], clause: str) -> Verb | None:
    if "hold" in after or "pause" in after:
        return Verb.PAUSE
    if "live" in after:
        return Verb.PUBLISH
    if "more" in after or MONEY_OR_NUMBER.search(clause):
        return Verb.RAISE
    return None


def _asks_content(rest: list[str]) -> bool:
    """ "write 3 posts", "give me some captions", "an outline for a blog post on X"."""
    nouns = [index for index, word in enumerate(rest) if word in CONTENT_NOUNS]
    if not nouns:
        return False
    head = rest[0]
    if head == "post":
        return _counted(rest[1:])  # "post 3 captions" asks for them; "post it" publishes
    if head in ("give", "gimme"):
        # "give me 3 captions", "give us ideas for ..."; not "give me the ads report"
        asked = rest[1:] if head == "gimme" else rest[2:]
        return (head == "gimme" or rest[1:2] in (["me"], ["us"])) and (
            _counted(asked) or (bool(asked) and asked[0] in CONTENT_NOUNS)
        )
    if head == "make":
        return "budget" not in rest  # "make the budget $700 a day" sets a budget
    if head in CONTENT_VERBS:
        return True
    for lead in CONTENT_LEADS:
        if tuple(rest[: len(lead)]) == lead:
            return _counted(rest[len(lead) :])
    return _counted(rest) and nouns[0] <= 4


def _counted(rest: list[str]) -> bool:
    """Opens with a number or an article and reaches a content noun within a few words."""
    if not rest:
        return False
    opening = rest[0]
    if not (
        opening.isdecimal()
        or opening in NUMBER_WORDS
        or opening in ("a", "an", "some", "few", "more", "new", "fresh", "another")
    ):
        return False
    return any(word in CONTENT_NOUNS for word in rest[1:5]) or bool(COUNTED.match(" ".join(rest)))


# Whole-message confirmations: "yes", "do it", "sounds good, go ahead".
CONFIRM_WORDS = wordset(
    """yes yeah yep yup sure ok okay k please do it that go ahead for sounds good great perfect
    fine alright confirm confirmed approve approved proceed let's lets let us make so thanks
    thank you absolutely definitely agreed agree correct lgtm now then just and"""
)
STRONG_CONFIRM = wordset(
    "yes yeah yep yup sure confirm confirmed approve approved proceed absolutely definitely "
    "agreed agree lgtm"
)
CONFIRM_PHRASES = re.compile(r"\b(?:do it|do that|go ahead|go for it|make it so|please do)\b")


def is_confirmation(text: str) -> bool:
    said = re.findall(r"[a-z']+", lower(text))
    if not said or not set(said) <= CONFIRM_WORDS:
        return False
    if STRONG_CONFIRM & set(said) or CONFIRM_PHRASES.search(" ".join(said)):
        return True
    # "ok" alone agrees; "ok thanks" only acknowledges.
    return bool({"ok", "okay", "k", "alright"} & set(said)) and not {"thanks", "thank"} & set(said)


CHOICE_FILLERS = wordset(
    """the one number no num option choice please i mean meant go with pick take choose let's
    lets that this campaign segment draft ok okay yes yeah is it it's its for me i'll we'll want
    like i'd sure do"""
)
LAST = -1  # "the last one": resolved against the candidates by the caller


def read_choice(text: str) -> int | None:
    """ "the second one" -> 2, "number 3" -> 3, "#2" or a bare "2" -> 2, "the last one" -> LAST."""
    said = re.findall(r"[a-z0-9']+", lower(text))
    picked = [word for word in said if word not in CHOICE_FILLERS]
    if len(picked) != 1:
        if not picked and said and ("number" in said or "option" in said or said == ["one"]):
            return 1
        return None
    word = picked[0]
    if word in ORDINALS:
        return ORDINALS[word]
    if word.isdecimal() and 0 < int(word) <= 20:
        return int(word)
    if word in NUMBER_WORDS and NUMBER_WORDS[word] <= 10 and word not in ("couple", "dozen"):
        return NUMBER_WORDS[word]
    if word == "last":
        return LAST
    return None
