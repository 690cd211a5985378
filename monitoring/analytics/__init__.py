"""The console's analytics: nightly rollups per tenant, local day, channel and agent
(monitoring.models.DailyRollup), read with today's figures computed live, for the dashboard, the
APIs and the export.

Definitions (every figure the console shows is one of these):

- **Days** are the tenant's local days (`Tenant.time_zone`): a message at 23:30 in Los Angeles
  belongs to that Los Angeles day. A day is rolled up once it has ended there.
- **Conversations started** on a day: their `started_at` falls in it. **Active** that day: at
  least one message in it. A conversation is counted under its channel and its current agent.
- **Messages**: the person's (`sender_kind` user), the agents' replies (agent) and the human
  operators' (human); system notices (holding messages, rating questions) are not counted. A
  message counts under its own agent when it has one (a reply), else its conversation's.
- **Response time**: the agents' replies' `response_time_ms`; its percentiles are nearest-rank,
  exact for a day, estimated from a fixed histogram for a period (analytics.histogram).
- **Escalated**: `escalated_at` is set (a reply held for a human, a takeover).
- **Resolved**: closed (`closed_at`) without escalation; or the agent's last reply was followed
  by no message from the person for 24 h, without escalation; or rated 4 or 5.
- **Settled**: resolved, escalated, closed, or silent for 24 h: its outcome is known. Resolution
  and escalation are judged on the conversations started on a day, as known when the day is
  rolled up: **resolution rate** = resolved / settled and **escalation rate** = escalated /
  settled. Conversations still going are in neither count. Outcomes can land a couple of days
  after the start, so the nightly run computes the last `REFRESH_DAYS` ended days again.
- **CSAT**: the average of the 1-5 ratings (`csat_score`) given that day.
- **Approvals**: created that day; approved (auto-approvals too), rejected (changes requested
  too) and expired, on the day they were decided. **Time to decision**: created to decided, for
  the approvals a person decided (approved, rejected, changes requested). **SLA compliance**: of
  the approvals with a deadline decided or expired that day, the share a person decided by it.
  A blank channel holds approvals with no conversation.
- **Agent runs, tokens, confidence, HITL rate** (runs held for review / runs) and **agent cost**
  (`AgentRun.cost_usd`) on the day of the run, under the run's conversation's channel.
- **WhatsApp messages**: received, and sent (every outbound WhatsApp message neither held nor
  failed), priced at the tenant tier's cost per message (analytics.costs.WHATSAPP_PRICE_USD),
  as the tier was when the day was rolled up.
- **Cost** = agent cost + WhatsApp cost; **cost per conversation** = cost / conversations
  started.
"""
