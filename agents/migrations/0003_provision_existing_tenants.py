"""Tenants created before the agents existed get their instances and settings."""

from __future__ import annotations

from django.db import migrations


def provision(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    WalkerAgent = apps.get_model("agents", "WalkerAgent")
    AgentInstance = apps.get_model("agents", "AgentInstance")
    AgentSettings = apps.get_model("agents", "AgentSettings")
    agents = list(WalkerAgent.objects.all())
    for tenant in Tenant.objects.all():
        AgentSettings.objects.get_or_create(tenant=tenant)
        for agent in agents:
            AgentInstance.objects.get_or_create(tenant=tenant, agent=agent)


class Migration(migrations.Migration):
    dependencies = [("agents", "0002_catalogue"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(provision, migrations.RunPython.noop)]
