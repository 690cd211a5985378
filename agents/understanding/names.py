"""Which campaign, content item or segment a message means, by loose name.

People shorten names ("the lookalike campaign" for "Prospecting - Lookalike 1%") and misspell
them ("serch brand"), so a name matches word by word with rapidfuzz, and the evidence is what
the message says: "search" fits "Search - Brand" and "Search - Running Shoes" equally (so both
are candidates), "search brand" fits the first better.

Three guards keep ordinary words from naming things:
- Noise words ("campaign", "ads", "budget"), function words and verbs are never evidence.
- A word is "anchored" when it sits next to a kind's noun ("the X campaign", "the draft about
  X") or right after a verb that acts on that kind ("pause X"). Elsewhere a match needs two
  words, or one word that only one name has and that is not a marketing word ("performance"
  alone never means "Performance Max - Catch-all").
- A name must explain every word of the phrase it is matched in: "the summer sale campaign"
  does not mean "TopView - Summer Launch"; it gets that as a "did you mean" suggestion.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils

from agents.understanding.request import Named, NameMatch
from agents.understanding.text import Text, Token, words
from agents.understanding.vocabulary import (
    AD_PLATFORMS,
    AD_PRODUCTS,
    CAMPAIGN_ANCHORS,
    CONTENT_ANCHORS,
    FILLERS,
    FUNCTION,
    GENERIC,
    JUDGING,
    NOISE,
    PLATFORM_WORDS,
    QUESTION_WORDS,
    SEGMENT_ANCHORS,
    TIME_WORDS,
    VERB_FORMS,
)

# Word similarity (0 to 100) from which two words are the same word misspelt: "serch" and
# "search" (91) are, "brand" and "broad" (80) are not.
SAME_WORD = 85
# Names whose evidence is within this of the best are equally plausible.
TIE_MARGIN = 8
# Below this WRatio, the closest name is too far to suggest ("foobar" is 45 from anything).
SUGGEST_FLOOR = 50
ANAPHORS = frozenset({"it", "its", "them", "their", "that", "this", "those", "these"})
ANCHORS = {"campaign": CAMPAIGN_ANCHORS, "content": CONTENT_ANCHORS, "segment": SEGMENT_ANCHORS}
# Never evidence in a message: what is left once these go is what may name something.
NEVER_NAMES = (
    FILLERS
    | FUNCTION
    | QUESTION_WORDS
    | TIME_WORDS
    | NOISE
    | VERB_FORMS
    | PLATFORM_WORDS
    | CAMPAIGN_ANCHORS
    | CONTENT_ANCHORS
    | SEGMENT_ANCHORS
)


def _tokens(text: Text) -> list[Token]:
    """The message's words with a possessive dropped: "Search - Brand's budget" names
    "Search - Brand" ("what's" becomes "what", still a function word)."""
    return [
        Token(token.word.removesuffix("'s"), token.start, token.end, token.index)
        for token in text.tokens()
    ]


@functools.lru_cache(maxsize=8192)
def name_words(name: str) -> tuple[str, ...]:
    """The words of a name that can be matched: "Spark Ads - Creator Reviews" is spark,
    creator, reviews. A name made only of such words keeps them all. Cached: every message
    reads the tenant's same names."""
    every = [word for word in words(name) if not word.isdecimal()]
    kept = [word for word in every if word not in NEVER_NAMES or word in JUDGING]
    return tuple(kept or every)


def similarity(said: str, name_word: str) -> float:
    """How surely a message word is a name word: 100 when equal, rapidfuzz's ratio when close
    (short words must be equal: "max" is not "mix"), 0 otherwise."""
    if said == name_word or said == name_word + "s":  # "our VIPs" for "VIP customers"
        return 100.0
    if min(len(said), len(name_word)) <= 3:
        return 0.0
    score = fuzz.ratio(said, name_word)
    if len(said) >= 4 and name_word.startswith(said):
        score = max(score, 90.0)  # "prospect" for "prospecting"
    return score if score >= SAME_WORD else 0.0


@dataclass
class Run:
    """Consecutive words of the message that may be a name (nothing in NEVER_NAMES between)."""

    tokens: list[Token] = field(default_factory=list)
    anchored: bool = False
    # Anchored by the kind's own noun or verb, not only by "one" (which any kind may take):
    # only such a phrase that matches nothing is reported as an unknown name.
    kind_anchored: bool = False

    @property
    def evidence(self) -> list[Token]:
        return [token for token in self.tokens if not token.is_number]


@dataclass(frozen=True)
class Mention:
    """A kind's name match and the parts of the message it took."""

    match: NameMatch
    spans: tuple[tuple[int, int], ...]
    anchored: bool
    score: float


@dataclass(frozen=True)
class Scored:
    row: Named
    score: float
    hits: tuple[Token, ...]
    anchored: bool
    partial: bool


# Never evidence, even in a name made of nothing else.
NEVER_EVIDENCE = FILLERS | FUNCTION | QUESTION_WORDS | VERB_FORMS


def is_evidence(word: str, kind_words: set[str]) -> bool:
    """Judging words ("running", "live") count when some name of the kind has them, and so do
    the nouns of a name made only of such words ("newsletter" of "Newsletter only")."""
    if word.isdecimal():
        return True
    if word in kind_words and word not in NEVER_EVIDENCE:
        return True
    return word not in NEVER_NAMES and word not in JUDGING


def runs_of(
    tokens: list[Token], kind: str, kind_words: set[str], verb_end: int | None
) -> list[Run]:
    runs: list[Run] = []
    current = Run()
    for token in tokens:
        if is_evidence(token.word, kind_words):
            current.tokens.append(token)
        elif current.tokens:
            runs.append(current)
            current = Run()
    if current.tokens:
        runs.append(current)
    runs = [run for run in runs if run.evidence]
    _anchor(runs, tokens, kind, verb_end)
    return runs


def _anchor(runs: list[Run], tokens: list[Token], kind: str, verb_end: int | None) -> None:
    """Mark the runs next to the kind's nouns, and the first after the verb."""
    nouns = [token for token in tokens if token.word in ANCHORS[kind]]
    for run in runs:
        first, last = run.tokens[0], run.tokens[-1]
        for noun in nouns:
            between = [t for t in tokens if last.index < t.index < noun.index]
            after = [t for t in tokens if noun.index < t.index < first.index]
            if (noun.index > last.index and all(t.word in NOISE for t in between)) or (
                # "the draft about trail shoes", not "the ads report"
                noun.index < first.index and after and all(t.word in FUNCTION for t in after)
            ):
                run.anchored = True
                run.kind_anchored = run.kind_anchored or noun.word != "one"
    if verb_end is None:
        return
    following = [token for token in tokens if token.start >= verb_end]
    for token in following[:6]:
        if token.word in ANAPHORS:
            return  # "pause it because ...": the name, if any, is not here
        holder = next((run for run in runs if token in run.tokens), None)
        if holder is not None:
            holder.anchored = holder.kind_anchored = True
            return


def _anchor_products(runs: list[Run], tokens: list[Token]) -> None:
    """ "google shopping", "meta shopping": an ad product right after its platform."""
    for run in runs:
        first = run.tokens[0]
        before = next((t for t in tokens if t.index == first.index - 1), None)
        if before and before.word in AD_PLATFORMS and first.word in AD_PRODUCTS:
            run.anchored = True


def _score(row: Named, runs: list[Run]) -> Scored | None:
    """Match the name's words one to one with the message's, best pairs first."""
    targets = name_words(row.name)
    pairs = sorted(
        (
            (similarity(token.word, target), token.index, token, target)
            for run in runs
            for token in run.evidence
            for target in targets
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    used_tokens: set[int] = set()
    used_targets: set[str] = set()
    hits: list[tuple[float, Token]] = []
    for score, _, token, target in pairs:
        if score and token.index not in used_tokens and target not in used_targets:
            used_tokens.add(token.index)
            used_targets.add(target)
            hits.append((score, token))
    if not hits:
        return None
    touched = [run for run in runs if any(token in run.tokens for _, token in hits)]
    unexplained = [
        token
        for run in touched
        for token in run.evidence
        if token.index not in used_tokens and token.word not in GENERIC
    ]
    return Scored(
        row=row,
        score=sum(score for score, _ in hits),
        hits=tuple(sorted((token for _, token in hits), key=lambda token: token.index)),
        anchored=any(run.anchored for run in touched),
        partial=bool(unexplained),
    )


class Matcher:
    """Matches one kind of name (campaigns, content or segments) in a message."""

    def __init__(
        self,
        kind: str,
        rows: Sequence[Named],
        everything: Iterable[Named],
        *,
        unanchored: bool,
        prefer: Callable[[tuple[Named, ...]], tuple[Named, ...]],
    ) -> None:
        self.kind = kind
        self.rows = tuple(rows)
        self.unanchored = unanchored
        self.prefer = prefer
        self.kind_words = {word for row in self.rows for word in name_words(row.name)}
        # How many names have each word: a word only one name has names it alone.
        self.frequency = Counter(word for row in everything for word in set(name_words(row.name)))

    def exact(self, text: Text) -> Mention | None:
        """A name written in full ("Prospecting - Lookalike 1%"): the longest one wins."""
        tokens = _tokens(text)
        said = [token.word for token in tokens]
        best: tuple[int, Named, Token, Token] | None = None
        for row in self.rows:
            wanted = words(row.name)
            size = len(wanted)
            if not size or (best is not None and size <= best[0]):
                continue
            for index in range(len(said) - size + 1):
                if said[index : index + size] == wanted:
                    best = (size, row, tokens[index], tokens[index + size - 1])
                    break
        if best is None:
            return None
        _, row, first, last = best
        end = _past_percent(text, last.end, row)
        match = NameMatch(
            found=row, candidates=(), asked=text.snippet(first.start, end), suggestion=None
        )
        return Mention(match, ((first.start, end),), anchored=True, score=1000.0)

    def fuzzy(
        self,
        text: Text,
        verb_end: int | None,
        pool: Sequence[Named] | None = None,
        *,
        answering: bool = False,
    ) -> Mention | None:
        """The names of `pool` (default: all of the kind) the message means. `answering`: the
        message answers "which one?" about this pool, so every phrase in it is anchored
        ("shopping" after the Meta campaigns were listed)."""
        rows = self.rows if pool is None else tuple(pool)
        tokens = _tokens(text)
        runs = runs_of(tokens, self.kind, self.kind_words, verb_end)
        if self.kind == "campaign" and self.unanchored:
            _anchor_products(runs, tokens)  # not to the SEO agent, for whom google is search
        if answering:
            for run in runs:
                run.anchored = True
        scored = [result for row in rows if (result := _score(row, runs)) is not None]
        accepted = [result for result in scored if result.anchored or self._alone(result)]
        if not accepted:
            return self._unknown(text, runs, rows)
        top = max(result.score for result in accepted)
        tied = [result for result in accepted if result.score >= top - TIE_MARGIN]
        anchored = any(result.anchored for result in tied)
        if anchored:  # "the lookalike campaign vs retargeting": the one next to "campaign"
            tied = [result for result in tied if result.anchored]
        # "lapsed customers": the name that explains every word over one that shares a word
        tied = [result for result in tied if not result.partial] or tied
        spans = _spans(text, tokens, tied)
        asked = " ".join(text.snippet(start, end) for start, end in spans)
        if any(result.partial for result in tied):
            if not anchored:
                return None
            best = max(tied, key=lambda result: result.score).row
            match = NameMatch(
                found=None, candidates=(), asked=_run_text(runs, tied), suggestion=best
            )
            return Mention(match, (), anchored=True, score=top)
        candidates = self.prefer(tuple(result.row for result in tied))
        if len(candidates) == 1:
            match = NameMatch(found=candidates[0], candidates=(), asked=asked, suggestion=None)
        else:
            match = NameMatch(found=None, candidates=candidates, asked=asked, suggestion=None)
        return Mention(match, tuple(spans), anchored=anchored, score=top)

    def _alone(self, result: Scored) -> bool:
        """Away from the kind's nouns and verbs: two words, or one that only this name has."""
        if not self.unanchored:
            return False
        if len(result.hits) >= 2:
            return True
        word = result.hits[0].word
        targets = [t for t in name_words(result.row.name) if similarity(word, t)]
        return any(
            self.frequency[target] == 1 and target not in GENERIC and len(target) >= 3
            for target in targets
        )

    def _unknown(self, text: Text, runs: list[Run], rows: Sequence[Named]) -> Mention | None:
        """An anchored phrase that matches no name: "the Foobar campaign"."""
        for run in runs:
            if run.kind_anchored and any(token.word not in GENERIC for token in run.evidence):
                asked = text.snippet(run.tokens[0].start, run.tokens[-1].end)
                match = NameMatch(
                    found=None, candidates=(), asked=asked, suggestion=self.closest(asked, rows)
                )
                return Mention(match, (), anchored=True, score=0.0)
        return None

    def closest(self, asked: str, rows: Sequence[Named]) -> Named | None:
        if not rows:
            return None
        best = process.extractOne(
            asked,
            [row.name for row in rows],
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=SUGGEST_FLOOR,
        )
        return rows[best[2]] if best else None


def _run_text(runs: list[Run], tied: list[Scored]) -> str:
    """The whole phrase a partial match sat in ("summer sale"), as the words asked."""
    hit = {token.index for result in tied for token in result.hits}
    touched = [run for run in runs if any(token.index in hit for token in run.tokens)]
    return " ".join(token.word for run in touched for token in run.tokens)


def _spans(text: Text, tokens: list[Token], tied: list[Scored]) -> list[tuple[int, int]]:
    """The words the match took: its hits, widened over neighbouring words of the name
    ("spark" + "ads", "lookalike" + "1%"), merged where they touch."""
    taken: set[int] = set()
    for result in tied:
        name = set(words(result.row.name))
        for hit in result.hits:
            taken.add(hit.index)
            for step in (-1, 1):
                index = hit.index + step
                while 0 <= index < len(tokens) and tokens[index].word in name:
                    taken.add(index)
                    index += step
    spans: list[tuple[int, int]] = []
    rows = [result.row for result in tied]
    for index in sorted(taken):
        token = tokens[index]
        end = max(_past_percent(text, token.end, row) for row in rows)
        if spans and index - 1 in taken:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((token.start, end))
    return spans


def _past_percent(text: Text, end: int, row: Named) -> int:
    """Take the "%" of "Lookalike 1%" with the name, so it is not read as a percentage."""
    if "%" in row.name and text.masked[end : end + 1] == "%":
        return end + 1
    return end
