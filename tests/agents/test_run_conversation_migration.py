"""agents 0005 turns AgentRun.conversation_id into a foreign key without losing the runs: ids
of conversations that exist are kept, ids of ones that are gone become null."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from agents.models import AgentRun
from tests.factories import ConversationFactory, TenantFactory

BEFORE = [("agents", "0004_target_roas_label")]
AFTER = [("agents", "0005_run_conversation_fk")]


@pytest.mark.django_db(transaction=True)
def test_existing_runs_keep_their_conversation_or_lose_a_missing_one() -> None:
    tenant = TenantFactory()
    conversation = ConversationFactory(tenant=tenant)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old_run = executor.loader.project_state(BEFORE).apps.get_model("agents", "AgentRun")
        fields = {"agent_type": "seo_optimization", "backend": "builtin", "status": "ok"}
        kept = old_run.objects.create(
            tenant_id=tenant.pk, conversation_id=conversation.pk, latency_ms=1, **fields
        )
        gone = old_run.objects.create(
            tenant_id=tenant.pk, conversation_id=conversation.pk + 1000, latency_ms=1, **fields
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    assert AgentRun.objects.get(pk=kept.pk).conversation == conversation
    assert AgentRun.objects.get(pk=gone.pk).conversation_id is None
    # The constraint is there now: a run cannot point at a conversation that does not exist.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.table_constraints WHERE table_name = %s "
            "AND constraint_type = 'FOREIGN KEY' AND constraint_name LIKE %s",
            ["agents_agentrun", "%conversation%"],
        )
        assert cursor.fetchone() is not None
