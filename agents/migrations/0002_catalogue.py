"""Write the Walker agent catalogue (agents.catalogue) to the database."""

from __future__ import annotations

from django.db import migrations


def write_catalogue(apps, schema_editor):
    from agents.catalogue import catalogue_write

    catalogue_write(apps.get_model("agents", "WalkerAgent"))


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(write_catalogue, migrations.RunPython.noop)]
