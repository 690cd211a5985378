# The event log belongs to the conversation core (channels_app.Event): the table stays, only
# Django's record of which app owns the model moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_whatsapp_event_kinds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Event")],
        ),
    ]
