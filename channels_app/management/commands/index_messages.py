"""Fill the blind token index for messages stored without it, or rebuild it after PII_HASH_KEY
changed (the tokens are keyed by it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from channels_app.models import Message, MessageToken
from channels_app.search_index import messages_index

BATCH = 500


class Command(BaseCommand):
    help = "Index message bodies for search (missing ones, or all with --rebuild)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Re-index every message (after a key change)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        messages = Message.objects.select_related("conversation").order_by("pk")
        if not options["rebuild"]:
            messages = messages.exclude(pk__in=MessageToken.objects.values("message_id"))
        done = tokens = 0
        last = 0
        while batch := list(messages.filter(pk__gt=last)[:BATCH]):
            with transaction.atomic():
                tokens += messages_index(batch)
            done += len(batch)
            last = batch[-1].pk
        self.stdout.write(f"{done} messages indexed ({tokens} tokens).")
