"""Tenants created before workflows existed get the default ones."""

from __future__ import annotations

from django.db import migrations

from hitl.workflows import DEFAULT_WORKFLOWS


def seed(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    HITLWorkflow = apps.get_model("hitl", "HITLWorkflow")
    ApprovalLevel = apps.get_model("hitl", "ApprovalLevel")
    for tenant in Tenant.objects.all():
        for spec in DEFAULT_WORKFLOWS:
            fields = {key: value for key, value in spec.items() if key not in ("name", "levels")}
            workflow, created = HITLWorkflow.objects.get_or_create(
                tenant=tenant, name=spec["name"], defaults=fields
            )
            if created:
                for number, level in enumerate(spec["levels"], start=1):
                    ApprovalLevel.objects.create(workflow=workflow, level=number, **level)


class Migration(migrations.Migration):
    dependencies = [("hitl", "0003_workflows_risk_sla"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
