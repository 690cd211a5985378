"""The agents carry out their own actions (agents/actions.py); hitl, which sits above them, is
where those are wired into the executor registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.models import Tenant
from agents.actions import ACTIONS, ActionFailed
from hitl.models import Approval
from hitl.registry import ExecutionError, Executor, executor_register


def _executor(apply: Callable[[Tenant, dict[str, Any]], dict[str, Any]]) -> Executor:
    def execute(approval: Approval) -> dict[str, Any]:
        try:
            return apply(approval.tenant, approval.action_data)
        except ActionFailed as exc:
            raise ExecutionError(str(exc)) from exc

    return execute


def agent_actions_register() -> None:
    for action_type, apply in ACTIONS.items():
        executor_register(action_type, _executor(apply))
