"""Roles are Django groups. Their permissions are declared here, once.

The four console roles follow the PRD's RBAC table exactly for its four capabilities
(view_all_conversations, view_pii, export_data, modify_settings); the model permissions each
needs to use the admin are added beside them. A fifth capability, run_agents, says who may run a
Walker agent on the tenant's behalf (the execute API). The business roles approve agent actions
(HITL) and the member role is an end user with no console access.
"""

from __future__ import annotations

import fnmatch
from typing import Any

SUPER_ADMIN = "super_admin"
SUPPORT_ADMIN = "support_admin"
COMPLIANCE_OFFICER = "compliance_officer"
READ_ONLY_ADMIN = "read_only_admin"
MARKETING_MANAGER = "marketing_manager"
DIRECTOR_MARKETING = "director_marketing"
CFO = "cfo"
MEMBER = "member"

CONSOLE_ROLES = (SUPER_ADMIN, SUPPORT_ADMIN, COMPLIANCE_OFFICER, READ_ONLY_ADMIN)
BUSINESS_ROLES = (MARKETING_MANAGER, DIRECTOR_MARKETING, CFO)
ALL_ROLES = (*CONSOLE_ROLES, *BUSINESS_ROLES, MEMBER)

# The PRD's RBAC table, plus run_agents: who may run a Walker agent on the tenant's behalf
# (the support and business roles, not the read-only or compliance roles, not end users).
CAPABILITIES: dict[str, dict[str, bool]] = {
    SUPER_ADMIN: {
        "view_all_conversations": True,
        "view_pii": True,
        "export_data": True,
        "modify_settings": True,
        "run_agents": True,
    },
    SUPPORT_ADMIN: {
        "view_all_conversations": True,
        "view_pii": False,
        "export_data": False,
        "modify_settings": False,
        "run_agents": True,
    },
    COMPLIANCE_OFFICER: {
        "view_all_conversations": True,
        "view_pii": True,
        "export_data": True,
        "modify_settings": False,
        "run_agents": False,
    },
    READ_ONLY_ADMIN: {
        "view_all_conversations": True,
        "view_pii": False,
        "export_data": False,
        "modify_settings": False,
        "run_agents": False,
    },
    **{
        role: {
            "view_all_conversations": False,
            "view_pii": False,
            "export_data": False,
            "modify_settings": False,
            "run_agents": role in BUSINESS_ROLES,
        }
        for role in (*BUSINESS_ROLES, MEMBER)
    },
}

# The PRD's masking table: which roles may see each kind of personal data in full, once they
# reveal it with a justification. Conversation text is masked for every role by default.
# Finance is the CFO; the PRD's "Engineering" is no console role, so only super admins see keys.
PII_FULL_ACCESS: dict[str, frozenset[str]] = {
    "email": frozenset({SUPER_ADMIN, COMPLIANCE_OFFICER}),
    "phone": frozenset({SUPER_ADMIN, COMPLIANCE_OFFICER}),
    "address": frozenset({SUPER_ADMIN, COMPLIANCE_OFFICER}),
    "card": frozenset({SUPER_ADMIN, CFO}),
    "api_key": frozenset({SUPER_ADMIN}),
}

OUR_APPS = ("accounts", "privacy", "agents", "hitl", "channels_app", "monitoring")

CAPABILITY_CODENAMES = frozenset(CAPABILITIES[SUPER_ADMIN])

MARKETING_DATA = [
    f"agents.{verb}_{model}"
    for model in (
        "campaign",
        "campaignday",
        "keywordranking",
        "pagetraffic",
        "contentitem",
        "audiencesegment",
        "segmentday",
    )
    for verb in ("add", "change", "view")
]

# Model permissions as "app_label.codename" patterns (fnmatch). Tenants are created and deleted
# by the platform only, never by a tenant's own admin. Nothing here reaches a model that is not
# tenant-scoped (API tokens, beat schedules): those admins list every tenant's rows.
# Approvers see the queue and their own notifications; who decides an approval is an object
# permission (hitl.decide_approval), granted per approval from its workflow's level.
APPROVER = [
    "hitl.view_approval",
    "hitl.view_approvalhistory",
    "hitl.view_approvalvote",
    "hitl.view_notification",
    "hitl.change_notification",
]

MODEL_PERMISSIONS: dict[str, list[str]] = {
    SUPER_ADMIN: [
        *(f"{app}.*" for app in OUR_APPS),
        "auditlog.view_logentry",
    ],
    SUPPORT_ADMIN: [
        "accounts.view_user",
        "accounts.view_userphonenumber",
        "agents.view_*",
        "channels_app.view_*",
        "channels_app.change_conversation",
        "monitoring.view_*",
        *APPROVER,
    ],
    COMPLIANCE_OFFICER: [
        *(f"{app}.view_*" for app in OUR_APPS),
        "auditlog.view_logentry",
    ],
    READ_ONLY_ADMIN: [
        "accounts.view_user",
        "accounts.view_tenant",
        "agents.view_*",
        "channels_app.view_*",
        "monitoring.view_*",
        "hitl.view_approval",
        "hitl.view_approvalhistory",
        "hitl.view_hitlworkflow",
    ],
    # The marketing team keeps the data the agents read up to date and watches the agents.
    MARKETING_MANAGER: [*MARKETING_DATA, "agents.view_*", *APPROVER],
    DIRECTOR_MARKETING: [
        *MARKETING_DATA,
        "agents.view_*",
        "agents.change_agentinstance",
        *APPROVER,
    ],
    CFO: ["agents.view_*", *APPROVER],
}
# The Walker agent catalogue is system-protected: no role adds, changes or deletes a definition;
# agent instances are provisioned, never added or deleted by hand.
SYSTEM_PROTECTED = [
    "agents.add_walkeragent",
    "agents.change_walkeragent",
    "agents.delete_walkeragent",
    "agents.add_agentinstance",
    "agents.delete_agentinstance",
    "agents.add_agentrun",
    "agents.change_agentrun",
    "agents.delete_agentrun",
    "agents.add_agentsettings",
    "agents.delete_agentsettings",
    # Only ever granted per approval; a global grant would mean nothing to the object checks.
    "hitl.decide_approval",
]
DENIED: dict[str, list[str]] = {
    SUPER_ADMIN: ["accounts.add_tenant", "accounts.delete_tenant", *SYSTEM_PROTECTED],
}


def wanted_permissions(role: str, available: list[str]) -> set[str]:
    """The permission names (of those that exist) that a role should hold."""
    wanted = {
        f"accounts.{capability}"
        for capability, granted in CAPABILITIES.get(role, {}).items()
        if granted
    }
    denied = set(DENIED.get(role, ())) | set(SYSTEM_PROTECTED)
    for pattern in MODEL_PERMISSIONS.get(role, ()):
        wanted.update(
            name
            for name in fnmatch.filter(available, pattern)
            if name not in denied and name.split(".", 1)[1] not in CAPABILITY_CODENAMES
        )
    return wanted & set(available)


def sync_roles(apps: Any) -> None:
    """Create the role groups and set each one's permissions to exactly what is declared."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in Permission.objects.select_related("content_type")
    }
    available = sorted(permissions)
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[name] for name in wanted_permissions(role, available)])


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    from django.apps import apps

    # post_migrate is sent once per app that has models, in order, and each app's permissions
    # are created by its own send; after the last one, every permission exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender.label != with_models[-1].label:
        return
    sync_roles(apps)
