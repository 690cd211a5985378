"""seed_demo gives every demo person email preferences and two weeks of brief history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Tenant, User
from channels_app.email.models import EmailPreferences, EmailSend
from channels_app.email.selectors import engagement_by_day
from privacy.fields import email_index

pytestmark = pytest.mark.django_db


def test_demo_people_have_preferences_and_a_history_of_briefs() -> None:
    call_command("seed_demo", verbosity=0)
    people = User.objects.filter(tenant__slug__in=["acme", "globex"])
    assert EmailPreferences.objects.filter(user__in=people).count() == people.count()
    by_name = {p.user.username: p for p in EmailPreferences.objects.select_related("user")}
    assert by_name["maya"].enabled and by_name["maya"].time_zone == "America/Los_Angeles"
    assert by_name["director"].frequency == "weekly" and by_name["leo"].custom_days == [0, 2, 4]
    assert not by_name["support"].enabled  # not every staff member wants a brief
    assert all(p.next_send_at for p in by_name.values() if p.enabled)
    # Two weeks of briefs, delivered, opened and clicked at believable rates.
    sends = EmailSend.objects.filter(tenant__slug="acme")
    assert sends.count() > 50
    assert sends.filter(to_hash=email_index("maya@acme.example")).exists()  # blind index set
    end = timezone.now().date()
    days = engagement_by_day(
        tenant=Tenant.objects.get(slug="acme"), start=end - timedelta(days=13), end=end
    )
    rates = [d["open_rate"] for d in days if d["open_rate"] is not None]
    assert len(rates) >= 10 and 0.3 < sum(rates) / len(rates) < 0.85
    # Again: nothing new, and what someone changed is kept.
    EmailPreferences.objects.filter(user__username="maya").update(digest_format="summary")
    before = EmailSend.objects.count()
    call_command("seed_demo", verbosity=0)
    assert EmailSend.objects.count() == before
    assert EmailPreferences.objects.get(user__username="maya").digest_format == "summary"
