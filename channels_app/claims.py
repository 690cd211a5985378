"""Claims that live exactly as long as the worker holding them.

A worker claims a message (a turn to answer, a send to make) by writing its `claimed_at`, and a
claim older than TURN_LEASE_SECONDS belongs to a worker that died: the next worker, or the
sweep, takes it over. The lease is short, so a killed worker delays a conversation by seconds,
not minutes; and while the worker lives, a thread renews its claim every third of the lease, so
a slow step (a Langflow call, Twilio's retries) never lets another worker take the turn over and
answer it twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from channels_app.models import Message

logger = logging.getLogger(__name__)


@contextmanager
def claim_kept(message: Message) -> Iterator[None]:
    """Renew the caller's claim on the message (its `claimed_at` as claimed) while the block
    runs."""
    if message.claimed_at is None:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_renew,
        kwargs={"message_id": message.pk, "claimed_at": message.claimed_at, "stop": stop},
        name=f"claim-{message.pk}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _renew(*, message_id: int, claimed_at: datetime, stop: threading.Event) -> None:
    current = claimed_at
    try:
        while not stop.wait(settings.TURN_LEASE_SECONDS / 3):
            try:
                renewed = claim_renew(message_id=message_id, claimed_at=current)
            except DatabaseError:
                # The next beat tries again, on a new connection: the lease outlasts a missed beat.
                logger.warning("claim on message %s not renewed", message_id, exc_info=True)
                connections.close_all()
                continue
            if renewed is None:
                if not stop.is_set():
                    logger.warning("claim on message %s was taken over", message_id)
                return
            current = renewed
    finally:
        connections.close_all()  # this thread's own connections only


def claim_renew(*, message_id: int, claimed_at: datetime) -> datetime | None:
    """Move the claim `claimed_at` to now; the new claim time, the old one when its row is
    locked by the worker's own transaction (renewed next time), or None when the claim is no
    longer ours."""
    now = timezone.now()
    with transaction.atomic():
        # SKIP LOCKED: the row may be locked by the turn's own open transaction (or a test's),
        # which this thread must never wait on.
        mine = Message.objects.filter(pk=message_id, claimed_at=claimed_at)
        if list(mine.select_for_update(skip_locked=True).values_list("pk", flat=True)):
            mine.update(claimed_at=now)
            return now
    return claimed_at if mine.exists() else None
