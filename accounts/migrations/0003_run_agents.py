"""The run_agents capability (who may run a Walker agent on the tenant's behalf).

The role groups get it from the post_migrate sync (accounts.roles), as every later permission.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("view_all_conversations", "Can view every conversation of the tenant"),
                    ("view_pii", "Can see unmasked personal data"),
                    ("export_data", "Can export personal data"),
                    ("modify_settings", "Can change tenant settings"),
                    ("run_agents", "Can run agents on the tenant's behalf"),
                ]
            },
        ),
    ]
