"""Who may use the console's APIs."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class SeesAllConversations(BasePermission):
    """The console roles (the PRD's view_all_conversations): super, support, compliance and
    read-only admins. End users and the business roles have their own surfaces."""

    message = "Your role may not see the tenant's conversations."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.user.has_perm("accounts.view_all_conversations")
