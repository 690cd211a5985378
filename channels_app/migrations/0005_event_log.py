# The event log moves here from monitoring. Its table (monitoring_event) is kept as it is, so only
# the migration state and the content type change; the content type keeps its id, so the
# permissions and audit entries that point at it follow the model.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="channels_app", model="event").exists():
        return
    ContentType.objects.filter(app_label="monitoring", model="event").update(
        app_label="channels_app"
    )


def content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="monitoring", model="event").exists():
        return
    ContentType.objects.filter(app_label="channels_app", model="event").update(
        app_label="monitoring"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("channels_app", "0004_chat"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("monitoring", "0003_event_moves_to_channels_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("message.received", "Message received"),
                                    ("agent.routed", "Agent routed"),
                                    ("reply.sent", "Reply sent"),
                                    ("reply.held", "Reply held for approval"),
                                    ("delivery.updated", "Delivery status updated"),
                                    ("turn.failed", "Turn failed"),
                                    ("human.takeover", "Human took over"),
                                    ("approval.decided", "Approval decided"),
                                    ("email.sent", "Email sent"),
                                    ("whatsapp.keyword", "WhatsApp keyword (STOP/START/HELP)"),
                                    ("whatsapp.quota", "WhatsApp daily quota reached"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("channel", models.CharField(blank=True, max_length=16)),
                        ("agent_type", models.CharField(blank=True, max_length=32)),
                        ("duration_ms", models.PositiveIntegerField(blank=True, null=True)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "conversation",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="events",
                                to="channels_app.conversation",
                            ),
                        ),
                        (
                            "message",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="events",
                                to="channels_app.message",
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="accounts.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitoring_event",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["tenant", "-created_at"], name="event_tenant_time"
                            ),
                            models.Index(
                                fields=["tenant", "kind", "-created_at"], name="event_tenant_kind"
                            ),
                            models.Index(
                                fields=["tenant", "channel", "-created_at"],
                                name="event_tenant_channel",
                            ),
                            models.Index(
                                fields=["tenant", "agent_type", "-created_at"],
                                name="event_tenant_agent",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_move, content_type_back),
    ]
