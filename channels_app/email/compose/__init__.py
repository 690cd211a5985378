"""What a brief says: each section gathered from its Walker agent's data and rules, the action
items ranked, the subject. Nothing here renders or sends.

The figures come from `agents.selectors` and the built-in agents (their windows, thresholds,
ranking moves, proposals and formatting), so a brief and an agent's answer never disagree. The
tenant's part is read once (`tenant_brief_data`) and shared by every brief of that tenant in a
batch; a brief then adds only its reader's approvals, so its queries do not grow with the data.

The modules, in the order they depend on each other: `parts` (what a brief is made of), `data`
(the tenant's data), `priority` (priority rules), one section module per agent (`paid_ads`,
`seo`, `content`, `audience`), `actions` (action items), `brief` (the brief assembled) and
`prose` (its opening written by a Langflow flow).
"""

from __future__ import annotations

from channels_app.email.compose.actions import readers_approvals
from channels_app.email.compose.brief import Brief, Links, brief_compose
from channels_app.email.compose.data import TenantBriefData, tenant_brief_data
from channels_app.email.compose.prose import brief_prose, prose_wanted

__all__ = [
    "Brief",
    "Links",
    "TenantBriefData",
    "brief_compose",
    "brief_prose",
    "prose_wanted",
    "readers_approvals",
    "tenant_brief_data",
]
