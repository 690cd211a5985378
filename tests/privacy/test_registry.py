"""Every link from our models to a person is in the personal-data registry (so it is exported and
erased), or named below with the reason it is not."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models

from accounts.roles import OUR_APPS
from privacy.registry import PersonalData, personal_data_entries

# "app_label.Model.field": why that link to a person is not exported nor erased.
NOT_PERSONAL = {
    "privacy.AdminAccessLog.admin_user": (
        "The staff member's own reads, append-only by law (a trigger refuses UPDATE); it points "
        "at the account, which erasure anonymises."
    ),
    "privacy.DataRequest.requested_by": (
        "The staff member who handled someone else's request: that request's record, kept to "
        "show it was honoured."
    ),
    "hitl.Approval.assigned_to": (
        "Who an approval was escalated to: routing, no words of theirs; it points at the "
        "account, which erasure anonymises."
    ),
    "channels_app.Conversation.human_operator": (
        "The staff member who took over someone else's conversation: the conversation is that "
        "person's (registered under `user`); it points at the account, which erasure anonymises."
    ),
    "channels_app.EmailSend.sent_by": (
        "The staff member who sent someone else a custom email: that send's record, whose "
        "subject and address are the recipient's (registered under `user`)."
    ),
}


def user_links() -> list[str]:
    """Each foreign key (or one-to-one) from a model of our apps to the user model."""
    return sorted(
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
        and field.related_model._meta.label == settings.AUTH_USER_MODEL
    )


def unregistered(links: list[str], entries: list[PersonalData]) -> list[str]:
    covered = {
        f"{entry.model._meta.label}.{name}" for entry in entries for name in entry.user_fields
    }
    return [link for link in links if link not in covered and link not in NOT_PERSONAL]


def test_every_link_to_a_person_is_registered_or_explained() -> None:
    links = user_links()
    # The walk sees the links it must (a check that finds nothing would pass anything).
    assert {"channels_app.Conversation.user", "accounts.UserPhoneNumber.user"} <= set(links)
    assert unregistered(links, personal_data_entries()) == []


def test_the_check_names_a_registration_left_out() -> None:
    entries = [e for e in personal_data_entries() if e.section != "phone_numbers"]
    assert unregistered(user_links(), entries) == ["accounts.UserPhoneNumber.user"]


def test_every_explanation_is_for_a_link_that_exists() -> None:
    assert set(NOT_PERSONAL) <= set(user_links())


def test_the_person_and_what_quotes_them_are_registered_too() -> None:
    """Models without a key to the user that hold a person's data, and the user itself."""
    registered = {entry.model._meta.label for entry in personal_data_entries()}
    assert {
        "accounts.User",
        "agents.AgentRun",
        "channels_app.Event",
        "channels_app.EmailEvent",
    } <= registered


def test_sections_are_unique_and_every_subject_path_resolves() -> None:
    entries = personal_data_entries()
    assert len({entry.section for entry in entries}) == len(entries)
    for entry in entries:
        # Building the query resolves each lookup path; a typo raises FieldError here.
        str(entry.rows_of(1).query)
