"""What hitl calls but does not own. The layers above register here in their AppConfig.ready():
an executor per action type ("send the held reply", "apply the budget change"), and the way to
tell a requester how their request ended (a message on their channel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitl.models import Approval


class ExecutionError(Exception):
    """The approved action could not be done; the message is shown to the approver."""


# executor(approval) -> a JSON-able result. discard(approval) undoes what waiting left behind
# when the approval ends without running. edit(approval, text, user) applies an approver's edit
# before approving (a held reply's new wording: kept where the channel keeps message bodies,
# encrypted, never in the approval's plain JSON).
Executor = Callable[["Approval"], dict[str, Any]]
Discard = Callable[["Approval"], None]
Editor = Callable[["Approval", str, Any], None]
RequesterNotifier = Callable[["Approval", str], bool]

_EXECUTORS: dict[str, Executor] = {}
_DISCARDS: dict[str, Discard] = {}
_EDITORS: dict[str, Editor] = {}
_REQUESTER_NOTIFIERS: list[RequesterNotifier] = []


def executor_register(
    action_type: str,
    executor: Executor,
    *,
    discard: Discard | None = None,
    edit: Editor | None = None,
) -> None:
    _EXECUTORS[action_type] = executor
    if discard is not None:
        _DISCARDS[action_type] = discard
    if edit is not None:
        _EDITORS[action_type] = edit


def editor_for(action_type: str) -> Editor | None:
    return _EDITORS.get(action_type)


def executor_for(action_type: str) -> Executor | None:
    return _EXECUTORS.get(action_type)


def discard_for(action_type: str) -> Discard | None:
    return _DISCARDS.get(action_type)


def requester_notifier_register(notifier: RequesterNotifier) -> None:
    if notifier not in _REQUESTER_NOTIFIERS:
        _REQUESTER_NOTIFIERS.append(notifier)


def requester_notify(approval: Approval, text: str) -> bool:
    """Tell the requester; True when some channel took the message."""
    told = [notifier(approval, text) for notifier in _REQUESTER_NOTIFIERS]  # every channel runs
    return any(told)
