"""Admin pages: retention. The runs are the system's record of what retention removed: nobody,
platform superusers included, adds, edits or deletes one. Their counts are totals of every
tenant, so only platform superusers (who run the job) read them: a tenant's staff would learn
other tenants' volumes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from unfold.admin import ModelAdmin

from accounts.admin_base import ReadOnlyAdminMixin
from privacy.models import RetentionRun
from privacy.retention import NOT_YET_APPLIED, PAST_TENSE, RETENTION_DAYS, retention_policies


def _done(run: RetentionRun, action: str | None) -> str:
    """What the run did with a policy's rows; a policy since withdrawn is named generically."""
    if action is None:
        return "would change" if run.dry_run else "changed"
    return f"would {action}" if run.dry_run else PAST_TENSE[action]


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["started_at", "finished_at", "dry_run", "total", "summary", "failed"]
    list_filter = ["dry_run"]
    fields = ["started_at", "finished_at", "dry_run", "counts_table", "error"]
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.display(description="rows")
    def total(self, run: RetentionRun) -> int:
        return sum(run.counts.values())

    @admin.display(description="what it did")
    def summary(self, run: RetentionRun) -> SafeString | str:
        actions = {policy.name: policy.action for policy in retention_policies()}
        done = [
            (count, _done(run, actions.get(name)), name)
            for name, count in run.counts.items()
            if count
        ]
        if not done:
            return "nothing past retention"
        return format_html_join(mark_safe("<br>"), "{} {}: {}", done)

    @admin.display(description="failed", boolean=True)
    def failed(self, run: RetentionRun) -> bool:
        return bool(run.error)

    @admin.display(description="per policy")
    def counts_table(self, run: RetentionRun) -> SafeString:
        policies = {policy.name: policy for policy in retention_policies()}
        rows: list[tuple[str, int, str, str | int, str]] = []
        for name, days in RETENTION_DAYS.items():
            policy = policies.get(name)
            if policy is None:
                note = NOT_YET_APPLIED.get(name, "no policy registered")
                rows.append((name, days, "-", "-", note))
                continue
            count = run.counts.get(name, "did not run")
            rows.append((name, days, _done(run, policy.action), count, policy.description))
        return format_html(
            "<table><thead><tr><th>policy</th><th>days</th><th>action</th><th>rows</th>"
            "<th>what it does</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )
