"""Every periodic task, declared here and nowhere else. `manage.py setup_periodic_tasks` (run on
deploy and by `make run`) writes them to django-celery-beat's tables.

A task runs either every `every_seconds`, or at the times of a `crontab` (minute and hour, in
UTC: CELERY_TIMEZONE)."""

from __future__ import annotations

from typing import Required, TypedDict


class Crontab(TypedDict):
    minute: str
    hour: str


class PeriodicTaskSpec(TypedDict, total=False):
    task: Required[str]
    every_seconds: int
    crontab: Crontab
    description: str
    kwargs: dict[str, object]


PERIODIC_TASKS: dict[str, PeriodicTaskSpec] = {
    "sweep unfinished turns": {
        "task": "channels_app.tasks.sweep_turns_task",
        "every_seconds": 60,
        "description": "Enqueue again the inbound messages no turn finished in time.",
    },
    "take over the turns of dead workers": {
        "task": "channels_app.tasks.sweep_turns_task",
        "every_seconds": 10,
        "kwargs": {"dead_claims_only": True},
        "description": "Enqueue again the turns whose worker stopped renewing its claim "
        "TURN_LEASE_SECONDS ago (channels_app/claims.py).",
    },
    "monitor_hitl_sla": {
        "task": "hitl.tasks.monitor_hitl_sla_task",
        "every_seconds": 300,
        "description": "Approval reminders, SLA breaches, escalations and expiry.",
    },
    "send the email briefs that are due": {
        "task": "channels_app.email.tasks.briefs_dispatch_task",
        "every_seconds": 15 * 60,
        "description": "Send the daily briefs whose local delivery time has come since the last "
        "run, one batch per tenant.",
    },
    "ask idle conversations for a rating": {
        "task": "channels_app.tasks.csat_ask_idle_task",
        "every_seconds": 5 * 60,
        "description": "Ask once for a 1-5 rating where the agent had the last word "
        "CSAT_IDLE_MINUTES ago (channels_app/csat.py).",
    },
    "hand idle takeovers back to the bot": {
        "task": "channels_app.tasks.takeovers_release_idle_task",
        "every_seconds": 5 * 60,
        "description": "Give back to the agent the conversations a human took over and left "
        "alone for TAKEOVER_IDLE_MINUTES.",
    },
    "tell the team about urgent conversations waiting": {
        "task": "channels_app.tasks.priority_alerts_task",
        "every_seconds": 60,
        "description": "Notify support and super admins of a high or urgent conversation no "
        "human has answered for PRIORITY_REPLY_MINUTES.",
    },
    "roll up the analytics": {
        "task": "monitoring.tasks.rollups_nightly_task",
        "crontab": {"minute": "0", "hour": "1"},
        "description": "Every night at 01:00 UTC, for each tenant, roll up the local days that "
        "have ended and are missing, and the last three again (late ratings and outcomes).",
    },
    "apply retention": {
        "task": "privacy.retention_tasks.retention_apply_task",
        "crontab": {"minute": "30", "hour": "2"},
        "description": "Every night at 02:30 UTC, the PRD's retention table: remove or anonymise "
        "what is past retention (manage.py apply_retention does the same by hand).",
    },
}
