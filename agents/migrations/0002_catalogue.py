"""Write the Walker agent catalogue (agents.catalogue) to the database."""

from __future__ import annotations

from django.db import migrations


def write_catalogue(apps, schema_editor):
    from agents.catalogue import CATALOGUE

    WalkerAgent = apps.get_model("agents", "WalkerAgent")
    for entry in CATALOGUE:
        fields = {key: value for key, value in entry.items() if key != "agent_type"}
        WalkerAgent.objects.update_or_create(agent_type=str(entry["agent_type"]), defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(write_catalogue, migrations.RunPython.noop)]
