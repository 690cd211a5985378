from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import TIER_LIMITS, SubscriptionTier, User
from accounts.services import user_create
from channels_app.models import Conversation, Message
from tests.factories import MessageFactory, TenantFactory, UserFactory


def test_tier_limits_follow_the_prd() -> None:
    assert [
        (TIER_LIMITS[t].walker_agents, TIER_LIMITS[t].whatsapp_messages_per_day)
        for t in SubscriptionTier.values
    ] == [(1, 100), (2, 1_000), (3, 10_000), (4, 50_000), (None, None)]


@pytest.mark.django_db
def test_tenant_exposes_its_limits() -> None:
    assert TenantFactory(tier=SubscriptionTier.STARTER).limits.whatsapp_messages_per_day == 1_000


@pytest.mark.django_db
def test_only_a_platform_superuser_may_have_no_tenant() -> None:
    User.objects.create_superuser("platform", password="x" * 12)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("orphan", password="x" * 12)


@pytest.mark.django_db
def test_user_create_rejects_unknown_time_zone_and_writes_nothing() -> None:
    with pytest.raises(ValidationError) as excinfo:
        user_create(tenant=TenantFactory(), username="tz", password="x" * 12, time_zone="Mars/Base")
    assert "time_zone" in excinfo.value.message_dict
    assert not User.objects.filter(username="tz").exists()


@pytest.mark.django_db
def test_user_create_rejects_unknown_roles_and_writes_nothing() -> None:
    with pytest.raises(ValidationError):
        user_create(tenant=TenantFactory(), username="r", password="x" * 12, roles=["wizard"])
    assert not User.objects.filter(username="r").exists()


@pytest.mark.django_db
def test_for_tenant_scopes_every_model() -> None:
    mine, theirs = MessageFactory(), MessageFactory()
    tenant = mine.conversation.tenant
    assert list(Message.objects.for_tenant(tenant)) == [mine]
    assert list(Conversation.objects.for_tenant(tenant)) == [mine.conversation]
    assert set(User.objects.for_tenant(tenant)) == {mine.conversation.user}
    assert theirs.conversation.tenant != tenant
    assert not Message.objects.for_tenant(None).exists()


@pytest.mark.django_db
def test_provider_id_is_unique_per_channel_only() -> None:
    first = MessageFactory(provider_id="SM123")
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(provider_id="SM123", conversation=first.conversation)
    MessageFactory(provider_id="SM123", conversation__channel="email")
    # Messages without a provider id (chat, system) are not limited.
    MessageFactory(provider_id=None, conversation=first.conversation)
    MessageFactory(provider_id=None, conversation=first.conversation)


@pytest.mark.django_db
def test_guardian_object_permissions_work_with_our_user() -> None:
    from guardian.shortcuts import assign_perm

    message = MessageFactory()
    user = UserFactory(tenant=message.conversation.tenant, is_staff=True)
    assert not user.has_perm("channels_app.view_conversation", message.conversation)
    assign_perm("channels_app.view_conversation", user, message.conversation)
    user = User.objects.get(pk=user.pk)  # drop the permission cache
    assert user.has_perm("channels_app.view_conversation", message.conversation)
    assert not user.has_perm("channels_app.view_conversation")
