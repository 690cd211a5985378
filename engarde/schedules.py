"""Every periodic task, declared here and nowhere else. `manage.py setup_periodic_tasks` (run on
deploy and by `make run`) writes them to django-celery-beat's tables."""

from __future__ import annotations

PERIODIC_TASKS: dict[str, dict[str, object]] = {
    "sweep unfinished turns": {
        "task": "channels_app.tasks.sweep_turns_task",
        "every_seconds": 60,
        "description": "Enqueue again the inbound messages no turn finished in time.",
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
}
