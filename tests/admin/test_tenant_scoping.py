"""Staff who are not platform superusers see and touch only their own tenant, in every admin."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Tenant, User, UserPhoneNumber
from accounts.tenancy import tenant_of
from agents.models import AgentRun, WalkerAgent
from channels_app.email.services import preferences_update
from channels_app.events import EventKind, event_record
from channels_app.models import BriefRun, Conversation, EmailSend
from hitl.models import ApprovalLevel, HITLWorkflow, Notification
from hitl.services import approval_request
from privacy.models import AdminAccessLog, DataRequest
from tests.agents import factories as marketing
from tests.conftest import TenantPeople
from tests.factories import DailyRollupFactory, MessageFactory, PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


def owning_tenant_id(obj: models.Model) -> int | None:
    if isinstance(obj, LogEntry):
        return (obj.additional_data or {}).get("tenant_id")
    tenant = tenant_of(obj)
    return tenant.pk if tenant else None


# Global, read-only reference data: the same for every tenant, holding nothing of theirs.
GLOBAL_CATALOGUE = {WalkerAgent}


def is_tenant_scoped(model: type[models.Model]) -> bool:
    return model is LogEntry or hasattr(model._default_manager, "for_tenant")


def populate(tenant: Tenant, number: str) -> None:
    member = UserFactory(tenant=tenant)
    PhoneNumberFactory(user=member, phone_number=number)
    message = MessageFactory(conversation__tenant=tenant, conversation__user=member)
    event_record(
        tenant=tenant,
        kind=EventKind.MESSAGE_RECEIVED,
        conversation=message.conversation,
        message=message,
    )
    marketing.CampaignDayFactory(campaign__tenant=tenant)
    DataRequest.objects.create(tenant=tenant, subject=member, kind=DataRequest.Kind.EXPORT)
    DailyRollupFactory(tenant=tenant, day=timezone.localdate())
    AdminAccessLog.objects.create(
        tenant=tenant,
        action=AdminAccessLog.Action.VIEW_CONVERSATION,
        resource_type="conversation",
        resource_id=str(message.conversation_id),
    )
    marketing.KeywordRankingFactory(tenant=tenant)
    marketing.PageTrafficFactory(tenant=tenant)
    marketing.ContentItemFactory(tenant=tenant)
    marketing.SegmentDayFactory(segment__tenant=tenant)
    AgentRun.objects.create(
        tenant=tenant, agent_type="seo_optimization", backend="builtin", status="ok", latency_ms=5
    )
    approval_request(
        tenant=tenant, action_type="held_reply", conversation=message.conversation, message=message
    )
    workflow = HITLWorkflow.objects.create(tenant=tenant, name="Scoping review")
    ApprovalLevel.objects.create(workflow=workflow, level=1, approver_roles=["super_admin"])
    # The notifications admin lists the viewer's own: every staff member gets one.
    for staff in User.objects.filter(tenant=tenant, is_staff=True):
        Notification.objects.create(tenant=tenant, recipient=staff, title="Approval needed")
    preferences_update(user=member, now=timezone.now())
    run = BriefRun.objects.create(tenant=tenant, first_due_at=timezone.now(), due=1)
    EmailSend.objects.create(
        tenant=tenant,
        user=member,
        run=run,
        kind=EmailSend.Kind.CUSTOM,
        template="custom_message",
        to_email=member.email,
        status=EmailSend.Status.SENT,
    )


@pytest.fixture
def world(people: TenantPeople) -> TenantPeople:
    populate(people.tenant, "+14155550101")
    populate(people.other_tenant, "+442079460958")
    return people


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_changelist_shows_only_own_tenant(world: TenantPeople, model: Any, who: str) -> None:
    user: User = getattr(world, who)
    response = login(user).get(changelist(model))
    can_view = admin.site._registry[model].has_view_or_change_permission(
        type("R", (), {"user": user})()
    )
    if not can_view:
        assert response.status_code == 403
        return
    if model in GLOBAL_CATALOGUE:
        assert response.status_code == 200
        model_admin = admin.site._registry[model]
        request = type("R", (), {"user": user})()
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        return
    assert is_tenant_scoped(model), f"{model._meta.label} is visible to tenant staff unscoped"
    assert response.status_code == 200
    shown = list(response.context["cl"].queryset)
    assert shown, f"{who} should see their own {model._meta.verbose_name_plural}"
    assert {owning_tenant_id(obj) for obj in shown} == {user.tenant_id}


TENANT_SCOPED = [model for model in REGISTERED if is_tenant_scoped(model)]
# What the admin registers that belongs to no tenant, and why each is safe to leave unscoped.
UNSCOPED = {
    "agents.WalkerAgent": "the global, read-only catalogue",
    "authtoken.TokenProxy": "API tokens: platform superusers only",
    "auth.Group": "the roles, written by a migration; platform superusers only",
    "axes.AccessAttempt": "failed sign-ins by username and address: platform superusers only",
    "django_celery_beat.ClockedSchedule": "platform superusers only",
    "django_celery_beat.CrontabSchedule": "platform superusers only",
    "django_celery_beat.IntervalSchedule": "platform superusers only",
    "django_celery_beat.PeriodicTask": "platform superusers only",
    "django_celery_beat.SolarSchedule": "platform superusers only",
    "privacy.RetentionRun": "totals across tenants: platform superusers only",
}


def test_every_unscoped_model_is_known_and_closed_to_tenant_staff(world: TenantPeople) -> None:
    unscoped = {model._meta.label for model in REGISTERED if not is_tenant_scoped(model)}
    assert unscoped == set(UNSCOPED)
    for model in REGISTERED:
        if model._meta.label in UNSCOPED and model not in GLOBAL_CATALOGUE:
            response = login(world.owner).get(changelist(model))
            assert response.status_code == 403, model._meta.label


@pytest.mark.parametrize("model", TENANT_SCOPED, ids=lambda m: m._meta.label)
def test_other_tenants_rows_cannot_be_opened(world: TenantPeople, model: Any) -> None:
    client = login(world.owner)
    foreign = [
        obj
        for obj in model._default_manager.all()
        if owning_tenant_id(obj) == world.other_tenant.pk
    ]
    assert foreign, f"the fixture should give globex some {model._meta.verbose_name_plural}"
    for obj in foreign:
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        response = client.get(url)
        assert response.status_code == 302, url  # "doesn't exist", back to the index
        assert reverse("admin:index") in response["Location"]


def test_platform_superuser_sees_every_tenant(world: TenantPeople) -> None:
    root = User.objects.create_superuser("root", password="x" * 12)
    response = login(root).get(changelist(Conversation))
    tenants = {c.tenant_id for c in response.context["cl"].queryset}
    assert tenants == {world.tenant.pk, world.other_tenant.pk}


def test_foreign_key_choices_are_scoped(world: TenantPeople) -> None:
    foreign_user = User.objects.filter(tenant=world.other_tenant, is_staff=False).first()
    response = login(world.owner).post(
        reverse("admin:accounts_userphonenumber_add"),
        {"user": foreign_user.pk, "phone_number": "+14155550177", "verified": "on"},
    )
    assert response.status_code == 200  # the form again, with an error
    assert "user" in response.context["adminform"].form.errors
    assert not UserPhoneNumber.objects.filter(user=foreign_user).count() > 1


def test_actions_cannot_reach_other_tenants(world: TenantPeople) -> None:
    foreign = Conversation.objects.get(tenant=world.other_tenant)
    mine = Conversation.objects.get(tenant=world.tenant)
    login(world.owner).post(
        changelist(Conversation),
        {
            "action": "delete_selected",
            "_selected_action": [foreign.pk, mine.pk],
            "post": "yes",
        },
    )
    # Deleting a conversation is soft: it leaves the console, its rows stay.
    assert not Conversation.objects.get(pk=foreign.pk).is_deleted
    assert Conversation.objects.get(pk=mine.pk).is_deleted


def test_new_user_lands_in_the_admins_tenant(world: TenantPeople) -> None:
    response = login(world.owner).post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "phone_numbers-TOTAL_FORMS": "0",
            "phone_numbers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    assert User.objects.get(username="newbie").tenant == world.tenant


def test_tenant_admin_cannot_make_superusers_or_move_tenants(world: TenantPeople) -> None:
    target = UserFactory(tenant=world.tenant, is_staff=True)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    client = login(world.owner)
    form = client.get(url).context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "tenant" not in form.fields
    client.post(
        url,
        {
            "username": target.username,
            "is_superuser": "on",
            "tenant": world.other_tenant.pk,
            "is_active": "on",
            "time_zone": "UTC",
            "phone_numbers-TOTAL_FORMS": "0",
            "phone_numbers-INITIAL_FORMS": "0",
        },
    )
    target.refresh_from_db()
    assert not target.is_superuser
    assert target.tenant == world.tenant


def test_demo_staff_see_only_their_tenant_in_every_admin() -> None:
    """The contract's own people: support sees acme only, globex_admin globex only."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    for username in ("admin", "support", "compliance", "readonly", "globex_admin"):
        user = User.objects.get(username=username)
        client = login(user)
        visible_models = 0
        for model in REGISTERED:
            response = client.get(changelist(model))
            if response.status_code == 403 or model in GLOBAL_CATALOGUE:
                continue
            assert response.status_code == 200, (username, model)
            tenants = {owning_tenant_id(obj) for obj in response.context["cl"].queryset}
            assert tenants <= {user.tenant_id}, (username, model._meta.label, tenants)
            visible_models += 1
        assert visible_models >= 3, username
