from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ALL_ROLES, CAPABILITIES

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_ROLES)


@pytest.mark.parametrize("role", list(CAPABILITIES))
def test_console_roles_hold_exactly_the_prd_capabilities(role: str) -> None:
    held = set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="accounts", codename__in=CAPABILITIES[role])
        .values_list("codename", flat=True)
    )
    assert held == {name for name, granted in CAPABILITIES[role].items() if granted}


def test_prd_table_as_written() -> None:
    # The PRD's RBAC table, transcribed independently of accounts.roles.
    expected = {
        "super_admin": (True, True, True, True),
        "support_admin": (True, False, False, False),
        "compliance_officer": (True, True, True, False),
        "read_only_admin": (True, False, False, False),
    }
    for role, flags in expected.items():
        group = Group.objects.get(name=role)
        got = tuple(
            group.permissions.filter(codename=name).exists()
            for name in ("view_all_conversations", "view_pii", "export_data", "modify_settings")
        )
        assert got == flags, role


def test_who_may_run_agents() -> None:
    # Transcribed independently of accounts.roles: the roles that act for the tenant.
    holders = set(
        Group.objects.filter(
            permissions__content_type__app_label="accounts", permissions__codename="run_agents"
        ).values_list("name", flat=True)
    )
    assert holders == {
        "super_admin",
        "support_admin",
        "marketing_manager",
        "director_marketing",
        "cfo",
    }


def test_tenant_admins_cannot_create_or_delete_tenants() -> None:
    codenames = set(
        Group.objects.get(name="super_admin").permissions.values_list("codename", flat=True)
    )
    assert {"view_tenant", "change_tenant"} <= codenames
    assert not {"add_tenant", "delete_tenant"} & codenames


def test_event_log_permissions_reach_roles_created_before_that_app_migrated() -> None:
    # accounts' data migration runs before the event log's table exists; the post_migrate sync
    # must still give the read-only role the event log.
    codenames = set(
        Group.objects.get(name="read_only_admin").permissions.values_list("codename", flat=True)
    )
    assert "view_event" in codenames
    assert "view_conversation" in codenames
