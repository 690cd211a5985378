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
