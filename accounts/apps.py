from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants and people"

    def ready(self) -> None:
        # Personal data (export, erasure), registered with privacy.
        from accounts import (
            personal_data,  # noqa: F401
            roles,
        )

        # Apps added later create their permissions after accounts' data migration ran;
        # re-syncing after every migrate attaches them to the roles.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
