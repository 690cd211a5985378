"""Search in encrypted message bodies, through a keyed blind token index.

A message's body is encrypted at rest, so the database cannot look inside it. When a message is
stored, each of its normalised words, phone numbers (E.164) and emails becomes a token: the first
8 bytes of an HMAC-SHA256 keyed by PII_HASH_KEY, in `MessageToken`. A search computes the same
tokens for its words and asks for the messages that hold all of them; a phrase ("in quotes") is
then checked word for word in the few candidate bodies, decrypted. No plaintext word is ever at
rest, and equal words are equal tokens only under the same key: after changing PII_HASH_KEY, run
`manage.py index_messages --rebuild`.

- Words: Unicode-normalised (NFKC), case-folded, runs of letters and digits; a hyphenated word is
  indexed whole and by its parts ("win-back", "win", "back"). One-letter words are not indexed.
- Phone numbers and emails: found by the PII masker's finder, indexed in their canonical form, so
  "+1 (415) 555-0102" finds "+14155550102".
- At most MAX_TOKENS per message: a 1,600-character WhatsApp body has far fewer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from channels_app.models import Message, MessageToken
from privacy.masking import pii_find
from privacy.normalize import normalize_email, normalize_phone

MAX_TOKENS = 512
MAX_QUERY_TOKENS = 16
# A run of word characters, optionally joined by hyphens or apostrophes: a plain character class
# and a bounded repeat, linear in the text.
_JOINERS = "'\u2019-"  # apostrophes (straight and typographic) and hyphens
_WORD = re.compile(rf"\w+(?:[{_JOINERS}]\w+)*")
_PHRASE = re.compile(r'"([^"]*)"')


def _token(value: str) -> int:
    digest = hmac.new(settings.PII_HASH_KEY.encode(), f"search:{value}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def words_of(text: str) -> list[str]:
    found: list[str] = []
    for match in _WORD.finditer(_normal(text)):
        word = match.group()
        parts = re.split(f"[{_JOINERS}]", word)
        for candidate in (word, *parts) if len(parts) > 1 else (word,):
            if len(candidate) > 1:
                found.append(candidate)
    return found


def _contact_values(text: str) -> list[str]:
    values = []
    for span in pii_find(text):
        try:
            if span.kind == "phone":
                values.append(f"phone:{normalize_phone(span.value)}")
            elif span.kind == "email":
                values.append(f"email:{normalize_email(span.value)}")
        except ValidationError:
            continue
    return values


def tokens_of(text: str) -> set[int]:
    values = [f"word:{word}" for word in words_of(text)] + _contact_values(text)
    tokens: set[int] = set()
    for value in values:
        tokens.add(_token(value))
        if len(tokens) >= MAX_TOKENS:
            break
    return tokens


def messages_index(messages: Iterable[Message], *, new: bool = False) -> int:
    """Index these messages' bodies (again: a message's old tokens are replaced, unless the
    caller says the messages are `new`, with no tokens yet)."""
    rows: list[MessageToken] = []
    ids: list[int] = []
    for message in messages:
        ids.append(message.pk)
        tenant_id = message.conversation.tenant_id
        rows.extend(
            MessageToken(tenant_id=tenant_id, message_id=message.pk, token=token)
            for token in tokens_of(message.body or "")
        )
    if not new:
        MessageToken.objects.filter(message_id__in=ids).delete()
    MessageToken.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def messages_unindex(messages: QuerySet[Message]) -> int:
    """Forget these messages' tokens (erasure, retention)."""
    deleted, _ = MessageToken.objects.filter(message__in=messages).delete()
    return deleted


@dataclass(frozen=True)
class SearchQuery:
    tokens: list[int]
    phrases: list[str]  # case-folded, checked in the decrypted candidates

    @property
    def empty(self) -> bool:
        return not self.tokens


def search_query(text: str) -> SearchQuery:
    """Every word must match; "a phrase" must appear as written; a phone number or an email
    matches however it was written in the message."""
    contacts = _contact_values(text)
    rest = text
    for span in pii_find(text):
        if span.kind in ("phone", "email"):
            rest = rest.replace(span.value, " ")
    values = contacts + [f"word:{word}" for word in words_of(rest)]
    tokens = list(dict.fromkeys(_token(value) for value in values))[:MAX_QUERY_TOKENS]
    phrases = [_normal(p).strip() for p in _PHRASE.findall(text) if len(words_of(p)) > 1]
    return SearchQuery(tokens=tokens, phrases=phrases)


def matching_message_ids(*, tenant_id: int | None, query: SearchQuery) -> QuerySet:
    """The ids of the tenant's messages (every tenant's: None, for platform operators) that
    hold every token of the query, in the order of the query's tokens (rarest first is best:
    `tokens_by_rarity`)."""
    scope = _scope(tenant_id)
    # The planner intersects the sorted id lists of an index-only scan per token (semi-joins),
    # far cheaper than grouping every row of them all.
    first, *others = query.tokens
    found = scope.filter(token=first)
    for token in others:
        found = found.filter(message_id__in=scope.filter(token=token).values("message_id"))
    return found.values("message_id")


def _scope(tenant_id: int | None) -> QuerySet[MessageToken]:
    scope = MessageToken.objects.all()
    return scope if tenant_id is None else scope.filter(tenant_id=tenant_id)


def phrase_holds(body: str, query: SearchQuery) -> bool:
    text = " ".join(_normal(body).split())
    return all(" ".join(phrase.split()) in text for phrase in query.phrases)


# A phrase is checked in the decrypted bodies of at most this many candidates, the newest.
PHRASE_CANDIDATES = 2000
# A search gathers the ids of at most this many matching messages. Past it, its words are common
# enough that walking the newest conversations and probing the index message by message finds a
# page at once, where gathering would read every match first.
GATHER_MAX = 5000


def tokens_by_rarity(*, tenant_id: int, tokens: list[int]) -> list[tuple[int, int]]:
    """Each token with the tenant's count of messages holding it, capped past GATHER_MAX (an
    index-only scan of at most GATHER_MAX + 1 entries each), rarest first."""
    scope = _scope(tenant_id)
    counted = [(token, scope.filter(token=token)[: GATHER_MAX + 1].count()) for token in tokens]
    return sorted(counted, key=lambda pair: pair[1])


def conversations_matching(*, tenant_id: int | None, text: str) -> Q:
    """A condition on conversations: those with a message that matches the search text (every
    word, phone number and email through the index, each quoted phrase as written).

    The plan follows the words' counts. Few matches (or a phrase to check): the matching
    messages' conversations, gathered in a subquery. Many: each conversation is probed for a
    matching message, so a page of the newest conversations costs a few index lookups each."""
    query = search_query(text)
    if query.empty:
        return Q(pk__in=[])
    tokens = query.tokens
    if tenant_id is not None:
        ranked = tokens_by_rarity(tenant_id=tenant_id, tokens=tokens)
        if ranked[0][1] == 0:
            return Q(pk__in=[])
        tokens = [token for token, _ in ranked]
    matching = matching_message_ids(
        tenant_id=tenant_id, query=SearchQuery(tokens=tokens, phrases=query.phrases)
    )
    if query.phrases:
        # The newest candidates, decrypted, checked word for word.
        newest = matching.order_by("-message_id")[:PHRASE_CANDIDATES]
        candidates = Message.objects.filter(pk__in=newest).order_by()
        rows = candidates.values_list("conversation_id", "body")
        return _one_of("pk", list({owner for owner, body in rows if phrase_holds(body, query)}))
    if matching.order_by()[: GATHER_MAX + 1].count() > GATHER_MAX:
        # The conversation is the tenant's, so its messages' tokens are: each probe is an
        # index-only lookup of (message, token), each message id from msg_conversation_time_id.
        held = Message.objects.filter(conversation_id=OuterRef("pk"))
        for token in tokens:
            probe = MessageToken.objects.filter(token=token, message_id=OuterRef("pk"))
            held = held.filter(Exists(probe))
        return Q(Exists(held))
    # Few: their conversations, gathered first (the planner, left to choose, may walk instead).
    return _one_of("pk", _owners(matching))


def _owners(messages: QuerySet | list[int]) -> list[int]:
    owners = Message.objects.filter(pk__in=messages).order_by().values_list("conversation_id")
    return [pk for (pk,) in owners.distinct()]


def _one_of(field: str, ids: list[int]) -> Q:
    """`field IN ids`; on PostgreSQL as one array: thousands of ids are one value to send and
    parse, not thousands of placeholders."""
    if not ids or connection.vendor != "postgresql":
        return Q(**{f"{field}__in": ids})
    return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [ids])})


def messages_found(
    messages: QuerySet[Message], *, tenant_id: int | None, text: str
) -> QuerySet[Message]:
    """The messages (of `messages`) that match the search text: every word, phone number and
    email through the index, and each quoted phrase as written."""
    query = search_query(text)
    if query.empty:
        return messages.none()
    found = messages.filter(pk__in=matching_message_ids(tenant_id=tenant_id, query=query))
    if not query.phrases:
        return found
    candidates = found.order_by("-created_at", "-id").only("id", "body")[:PHRASE_CANDIDATES]
    return messages.filter(pk__in=[m.pk for m in candidates if phrase_holds(m.body, query)])
