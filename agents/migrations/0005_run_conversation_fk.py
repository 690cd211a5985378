"""AgentRun.conversation_id becomes a real foreign key to channels_app.Conversation.

The column keeps its name and its values: ids of conversations that no longer exist are set to
null first (a run outlives its conversation), the state swaps the integer field for the foreign
key without touching the table, and a final AlterField adds the constraint and the index (which
replaces the hand-made run_conversation index).
"""

import django.db.models.deletion
from django.db import migrations, models


def forget_missing_conversations(apps, schema_editor):
    AgentRun = apps.get_model("agents", "AgentRun")
    Conversation = apps.get_model("channels_app", "Conversation")
    AgentRun.objects.filter(conversation_id__isnull=False).exclude(
        conversation_id__in=Conversation.objects.values("pk")
    ).update(conversation_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0004_target_roas_label"),
        ("channels_app", "0005_event_log"),
    ]

    operations = [
        migrations.RunPython(forget_missing_conversations, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="agentrun", name="run_conversation"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="agentrun", name="conversation_id"),
                migrations.AddField(
                    model_name="agentrun",
                    name="conversation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="agent_runs",
                        to="channels_app.conversation",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="agentrun",
            name="conversation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="agent_runs",
                to="channels_app.conversation",
            ),
        ),
    ]
