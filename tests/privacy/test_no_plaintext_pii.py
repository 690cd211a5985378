"""The database as an attacker with a copy of it would see it: `pg_dump` of the seeded demo.

Phone numbers, emails and message bodies must appear nowhere in plaintext, in any table,
the audit log included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import phonenumbers
import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from accounts.models import User, UserPhoneNumber
from channels_app.models import Message

MIN_BODY = 12
# A leak is often a truncated copy (a preview, a log line): each piece's head and tail are
# searched on their own too.
EDGE = 20


def pg_dump() -> str:
    pg_bin = os.environ.get("PG_BIN")
    executable = str(Path(pg_bin) / "pg_dump") if pg_bin else shutil.which("pg_dump")
    if not executable:
        pytest.fail("pg_dump not found: set PG_BIN (scripts/test.sh exports it).")
    db = connection.settings_dict
    command = [executable, "--data-only", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def needles(secret: str) -> list[str]:
    """What to search for: the pieces of a secret that survive any escaping the dump applies
    (COPY escapes backslashes and control characters, JSON escapes quotes and may escape
    non-ASCII), and each piece's head and tail."""
    pieces = [p for p in re.split(r'[^\x20-\x7e]|[\\"]', secret) if len(p) >= MIN_BODY]
    pieces = pieces or [secret]
    return [*pieces, *(edge for p in pieces if len(p) > EDGE for edge in (p[:EDGE], p[-EDGE:]))]


def leaks(dump: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if any(needle in dump for needle in needles(secret))]


def phone_forms(e164: str) -> list[str]:
    national = str(phonenumbers.parse(e164).national_number)
    return [e164, e164.lstrip("+"), national]


@pytest.mark.django_db(transaction=True)
def test_database_dump_holds_no_plaintext_pii() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"pg_dump needs PostgreSQL; this database is {connection.vendor}.")
    call_command("seed_demo", verbosity=0)

    phones = [p.phone_number for p in UserPhoneNumber.objects.all()]
    emails = [u.email for u in User.objects.all() if u.email]
    bodies = sorted({b for b in Message.objects.values_list("body", flat=True) if len(b) >= 12})
    assert len(phones) == 3
    assert "+14155550101" in phones
    assert len(emails) == 11
    assert len(bodies) > 50
    # The audit log recorded the people (with their emails and numbers masked) and is dumped.
    audited = ContentType.objects.get_for_models(User, UserPhoneNumber).values()
    assert LogEntry.objects.filter(content_type__in=audited).count() >= 14

    dump = pg_dump()
    assert "COPY public.auditlog_logentry" in dump
    secrets = [form for phone in phones for form in phone_forms(phone)] + emails + bodies
    assert leaks(dump, secrets) == []

    # Positive controls: the dump holds the tables' plaintext columns, and the scan finds a
    # body, a number and an email once they are written somewhere in the clear.
    assert "maya" in dump
    assert "acme" in dump
    body = next(b for b in bodies if 60 <= len(b) <= 200)
    ana = User.objects.get(username="ana")
    ana_national = phone_forms(ana.phone_numbers.get().phone_number)[-1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_tenant SET name = %s WHERE slug = 'globex'", [body])
        cursor.execute(
            "UPDATE accounts_user SET first_name = %s, last_name = %s WHERE id = %s",
            [ana_national, ana.email, ana.pk],
        )
    # (Other bodies written from the same template as `body` may share its head: a subset.)
    assert {body, ana_national, ana.email} <= set(leaks(pg_dump(), secrets))
