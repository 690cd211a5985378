"""Rewrite PII under the current keys, after a rotation.

FIELD_ENCRYPTION_KEY: put the new key first, keep the old ones after it, run this, then drop the
old keys. PII_HASH_KEY: set the new key and run this at once; until it finishes, lookups by phone
or email miss rows whose index was computed under the old key.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from privacy.fields import BlindIndexField, EncryptedFieldMixin

BATCH = 500


def pii_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, (EncryptedFieldMixin, BlindIndexField))
    ]


class Command(BaseCommand):
    help = "Re-encrypt PII under the first FIELD_ENCRYPTION_KEY and recompute blind indexes."

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            fields = pii_fields(model)
            if not fields:
                continue
            names = [field.name for field in fields]
            manager = model._base_manager
            done = 0
            last_pk = None
            while True:
                batch_qs = manager.order_by("pk")
                if last_pk is not None:
                    batch_qs = batch_qs.filter(pk__gt=last_pk)
                batch = list(batch_qs[:BATCH])
                if not batch:
                    break
                for obj in batch:
                    for field in fields:
                        if isinstance(field, BlindIndexField):
                            setattr(obj, field.attname, field.compute(obj))
                with transaction.atomic():
                    # Saving a decrypted value encrypts it again, under the first key.
                    model._base_manager.bulk_update(batch, names)
                done += len(batch)
                last_pk = batch[-1].pk
            self.stdout.write(f"{model._meta.label}: {done} rows rewritten ({', '.join(names)})")
