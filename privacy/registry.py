"""The registry of personal data: what each app holds about a person, and how to export it
(GDPR art. 15/20) and erase it (art. 17).

privacy sits at the bottom of the layers and cannot import the apps above it, so each app
registers its own models from its `personal_data.py` (imported by its AppConfig.ready()). An entry
names the model, the lookup path(s) from a row to the person it is about (`subject`), the export
section it fills, and two callables that receive the person's rows as a queryset: `export` gives
JSON-able dicts, `erase` anonymises or deletes them and answers how many rows it changed.

Erasure keeps what the analytics count (rows, timestamps, channels, agent types) and removes what
identifies or quotes the person. Both run inside the one transaction of `privacy.erasure`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

# What an erased text becomes: fixed, so nothing of the original (not even its length) remains.
ERASED = "[erased]"
EXPORT_CHUNK = 2000

Exporter = Callable[[QuerySet[Any]], list[dict[str, Any]]]
Eraser = Callable[[QuerySet[Any]], int]


@dataclass(frozen=True)
class PersonalData:
    model: type[models.Model]
    subject: tuple[str, ...]
    section: str
    export: Exporter
    erase: Eraser

    def rows_of(self, user_id: int) -> QuerySet[Any]:
        """The rows this entry holds about the person: any of the subject paths leads to them."""
        condition = Q()
        for path in self.subject:
            condition |= Q(**{path: user_id})
        return self.model._default_manager.filter(condition)

    @property
    def user_fields(self) -> frozenset[str]:
        """The model's own fields the subject paths start from (`pk` for the user itself)."""
        return frozenset(path.split("__", 1)[0] for path in self.subject)


_ENTRIES: dict[str, PersonalData] = {}


def personal_data_register(
    model: type[models.Model],
    *,
    subject: str | Sequence[str],
    section: str,
    export: Exporter,
    erase: Eraser,
) -> None:
    """Declare a model that holds or points at a person. `section` names its part of the export
    and is unique; registering the same section for the same model again replaces it."""
    paths = (subject,) if isinstance(subject, str) else tuple(subject)
    if not paths:
        raise ValueError(f"{model.__name__}: name at least one subject path.")
    existing = _ENTRIES.get(section)
    if existing is not None and existing.model is not model:
        raise ValueError(f"Export section {section!r} is already {existing.model._meta.label}'s.")
    _ENTRIES[section] = PersonalData(
        model=model, subject=paths, section=section, export=export, erase=erase
    )


def personal_data_entries() -> list[PersonalData]:
    """Every entry, in registration order (the apps' order in INSTALLED_APPS)."""
    return list(_ENTRIES.values())


def export_values(*fields: str) -> Exporter:
    """An exporter that reads `fields` (lookups allowed) in one streamed query, oldest first."""

    def export(queryset: QuerySet[Any]) -> list[dict[str, Any]]:
        return list(queryset.order_by("pk").values(*fields).iterator(chunk_size=EXPORT_CHUNK))

    return export


def erase_keep(queryset: QuerySet[Any]) -> int:
    """For rows that hold nothing identifying once their person is anonymised (counts, codes,
    timestamps): they stay, for the analytics or as a record the law asks to keep."""
    return 0


def erase_delete(queryset: QuerySet[Any]) -> int:
    """For rows that serve only the person (their numbers, bookmarks, current preferences)."""
    deleted, _ = queryset.delete()
    return deleted


def strings_erased(value: Any) -> Any:
    """JSON with every string replaced by ERASED; numbers, flags, keys and shape stay."""
    if isinstance(value, str):
        return ERASED if value else value
    if isinstance(value, dict):
        return {key: strings_erased(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strings_erased(item) for item in value]
    return value
