from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from accounts.models import SubscriptionTier, Tenant, User, UserPhoneNumber
from accounts.services import tenant_create
from channels_app.models import Channel, Conversation, Message

PASSWORD = "correct-horse-battery"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    tier = SubscriptionTier.PROFESSIONAL

    @classmethod
    def _create(cls, model_class: type[Tenant], *args: object, **kwargs: object) -> Tenant:
        # Through the service, as a sign-up would: the tenant gets its agents and settings.
        return tenant_create(**kwargs)  # type: ignore[arg-type]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        self.save()


class StaffFactory(UserFactory):
    is_staff = True


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserPhoneNumber

    user = factory.SubFactory(UserFactory)
    phone_number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    verified = True


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory, tenant=factory.SelfAttribute("..tenant"))
    channel = Channel.WHATSAPP
    current_agent_type = "paid_ads_optimization"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    direction = Message.Direction.INBOUND
    sender_kind = Message.SenderKind.USER
    body = factory.Sequence(lambda n: f"How is my campaign doing, question {n}?")


# Personal data of every kind the privacy registry exports and erases (tests/privacy).


class ChannelConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "privacy.ChannelConsent"

    user = factory.SubFactory(UserFactory)
    channel = Channel.WHATSAPP


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "privacy.ConsentRecord"

    user = factory.SubFactory(UserFactory)
    channel = Channel.EMAIL
    purpose = "briefs"
    granted = True
    source = "settings"


class EmailPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "channels_app.EmailPreferences"

    user = factory.SubFactory(UserFactory)
    time_zone = "UTC"


class EmailSendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "channels_app.EmailSend"

    user = factory.SubFactory(UserFactory)
    tenant = factory.SelfAttribute("user.tenant")
    kind = "custom"
    template = "custom_message"
    to_email = factory.SelfAttribute("user.email")
    subject = "Your week in numbers"
    status = "sent"


class ApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hitl.Approval"

    tenant = factory.SubFactory(TenantFactory)
    action_type = "budget_increase"
    title = "Raise the daily budget to $150"
    action_data = factory.LazyFunction(lambda: {"campaign_id": 1, "new_daily_budget": "150"})
    requested_by_agent = "paid_ads_optimization"


def person_with_data_everywhere(
    *,
    tenant: Tenant,
    username: str,
    phone: str,
    words: str,
    approver: User,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """A person of `tenant` with a row in every registered model, `words` planted in every text
    that could quote them (bodies, titles, notes, metadata, provider errors), their number in a
    provider's error, and their username and email where the audit trails keep them."""
    from datetime import timedelta

    from auditlog.context import set_actor
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.services import phone_number_add
    from agents.models import AgentRun
    from channels_app.events import EventKind, event_record
    from channels_app.models import Bookmark, EmailEvent
    from hitl.models import ApprovalHistory, ApprovalVote, Notification
    from privacy.models import DataRequest

    person = UserFactory(
        tenant=tenant,
        username=username,
        email=f"{username}.inbox@example.org",
        first_name=first_name,
        last_name=last_name,
    )
    phone_number_add(user=person, number=phone, verified=True, primary=True)
    agents = {
        Channel.WHATSAPP: "paid_ads_optimization",
        Channel.CHAT: "seo_optimization",
        Channel.EMAIL: "content_generation",
    }
    for channel, agent in agents.items():
        conversation = ConversationFactory(
            tenant=tenant, user=person, channel=channel, current_agent_type=agent
        )
        asked = MessageFactory(
            conversation=conversation,
            body=f"{words} asked on {channel}",
            metadata={"media": [{"url": f"https://media.example/{words}.jpg"}]},
        )
        reply = MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            sender_kind=Message.SenderKind.AGENT,
            agent_type=agent,
            body=f"Here is what I found about {words}",
            reply_to=asked,
            response_time_ms=850,
            error_code="63016",
            error_message=f"Failed to send to {phone}",
            metadata={"understood": {"intent": "performance"}},
        )
        Conversation.objects.filter(pk=conversation.pk).update(message_count=2)
        AgentRun.objects.create(
            tenant=tenant,
            agent_type=agent,
            backend="builtin",
            status="ok",
            latency_ms=850,
            conversation=conversation,
        )
        event_record(
            tenant=tenant, kind=EventKind.REPLY_SENT, conversation=conversation, message=reply
        )
    Bookmark.objects.create(user=person, message=reply)
    ChannelConsentFactory(user=person)
    ConsentRecordFactory(user=person)
    send = EmailSendFactory(
        user=person, subject=f"About {words}", error_message=f"{person.email} bounced"
    )
    EmailEvent.objects.create(
        send=send,
        esp="test",
        event_key=f"event-{person.pk}",
        event_type="delivered",
        occurred_at=timezone.now(),
    )
    approval = ApprovalFactory(
        tenant=tenant,
        requested_by=person,
        conversation=conversation,
        title=f"Raise the budget, as {words} asked",
        action_data={"campaign_id": 7, "new_daily_budget": "150", "description": words},
        notes=f"Approved: {words}",
    )
    ApprovalFactory(tenant=tenant, action_type="held_reply", conversation=conversation)
    ApprovalVote.objects.create(approval=approval, level=1, user=approver, notes=f"ok, {words}")
    ApprovalHistory.objects.create(
        approval=approval, event="approved", actor=approver, notes=words, data={"said": words}
    )
    Notification.objects.create(
        tenant=tenant, recipient=approver, approval=approval, title=f"Approval needed: {words}"
    )
    Notification.objects.create(tenant=tenant, recipient=person, title="Your request is approved")
    # The person changing their own preferences: auditlog keeps their email beside the entry.
    with set_actor(person):
        EmailPreferencesFactory(user=person, email=f"{username}.briefs@example.org")
    LogEntry.objects.create(
        user=approver,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
        change_message="[]",
    )
    Token.objects.create(user=person)
    DataRequest.objects.create(
        tenant=tenant,
        subject=person,
        requested_by=approver,
        kind=DataRequest.Kind.EXPORT,
        status=DataRequest.Status.DONE,
        payload=f'{{"words": "{words}"}}',
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return person


# The analytics' daily rollups (tests/monitoring): a day of one tenant and its rows.


def _rolled_up_now() -> object:
    from django.utils import timezone

    return timezone.now()


class RollupDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "monitoring.RollupDay"
        django_get_or_create = ["tenant", "day"]

    tenant = factory.SubFactory(TenantFactory)
    time_zone = factory.SelfAttribute("tenant.time_zone")
    computed_at = factory.LazyFunction(_rolled_up_now)


class DailyRollupFactory(factory.django.DjangoModelFactory):
    """A rollup row; its day's RollupDay is created with it."""

    class Meta:
        model = "monitoring.DailyRollup"

    tenant = factory.SubFactory(TenantFactory)
    rollup_day = factory.SubFactory(
        RollupDayFactory,
        tenant=factory.SelfAttribute("..tenant"),
        day=factory.SelfAttribute("..day"),
    )
    channel = Channel.WHATSAPP
    agent_type = "paid_ads_optimization"
    response_histogram = factory.LazyFunction(list)
