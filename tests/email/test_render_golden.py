"""What a recipient gets, byte for byte: a fixed brief in each digest format, rendered (HTML
with its CSS inlined, and plain text) and compared with the golden files in golden/, which were
written by the rendering as it was before the batch path reused its parts. A change of the
templates or of the rendering shows here first; regenerate the files only for a change meant to
reach every recipient (EMAIL_GOLDEN_WRITE=1, then read the diff)."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path

import pytest

from channels_app.email.compose import Brief
from channels_app.email.compose.parts import ActionItem, Alert, BriefSection, Stat, Table
from channels_app.email.render import BriefRenderer, brief_render

GOLDEN = Path(__file__).parent / "golden"
CONSOLE = "https://console.example.com/admin/"


def fixed_brief(digest_format: str) -> Brief:
    """Every part the template has: prose with markup to escape, each tone and priority, a
    table with odd and even rows, an empty section, more action items than shown."""
    ads = BriefSection(
        key="paid_ads",
        title="Paid ads",
        agent="Paid Ads agent",
        stats=[
            Stat("Spend on Mar 2", "$390.00", "of $290.00 budget, 134.5%", "bad"),
            Stat("ROAS, last 7 days", "3.84x", "+7.3% vs 3.58x the week before", "good"),
            Stat("Revenue, last 7 days", "$7,512.40", "on $1,956.00 spend"),
            Stat("Conversions, last 7 days", "187", ""),
        ],
        tables=[
            Table(
                title="Campaigns by ROAS, last 7 days",
                columns=("Campaign", "Spend", "ROAS"),
                rows=(
                    ("Brand Search", "$336.00", "5.10x"),
                    ('Spring Sale <EU> & "US"', "$739.20", "4.20x"),
                    ("Retargeting", "$448.00", "2.10x"),
                ),
                numeric=(False, True, True),
            ),
            Table(title="Nothing to list", columns=("A", "B"), rows=(), numeric=(False, True)),
        ],
        alerts=[
            Alert("urgent", "Spring Sale spent $163.00 against a $100.00 budget (163%)."),
            Alert("high", "TikTok Launch returns 0.70x, under its 2.50x target."),
            Alert("medium", "Retargeting spent $88.00 of $80.00."),
            Alert("low", "Old Promo is paused."),
        ],
        lines=["Spent $390.00 of $290.00 budgeted on Mar 2 across 4 active campaigns."],
        notes=["Figures from Feb 24 to Mar 2, compared with the 7 days before."],
    )
    seo = BriefSection(
        key="seo",
        title="SEO",
        agent="SEO agent",
        stats=[Stat("Organic sessions", "1,024", "-3.2%", "bad")],
        lines=["trail running shoes climbed from 9 to 4.", "ultralight tent fell from 22 to 30."],
    )
    content = BriefSection(
        key="content",
        title="Content",
        agent="Content agent",
        empty="No published content yet: the Content agent reports here once there is.",
    )
    return Brief(
        user_id=7,
        recipient_name="Carmen O'Hara & <co>",
        tenant_name="Acme & Sons",
        brief_date=date(2026, 3, 3),
        cadence="Daily",
        digest_format=digest_format,
        subject="Your En Garde Daily Brief - Mar 3 | 2 urgent items need review",
        highlight="2 urgent items need review",
        summary=[
            Stat("ROAS", "3.84x", "+7.3%", "good"),
            Stat("Organic sessions", "1,024", "-3.2%", "bad"),
            Stat("Conversions", "187", "last 7 days"),
            Stat("Need your attention", "9", "items", "bad"),
        ],
        sections=[ads, seo, content],
        action_items=[
            ActionItem(
                priority="urgent",
                title="Approve a budget increase",
                description="High risk; over the budget limit.",
                source="approval",
                agent="Paid Ads agent",
                url=CONSOLE + "hitl/approval/41/change/",
                label="Review and decide",
                detail="waiting 3 h, est. $1,200.00",
            ),
            ActionItem(
                priority="high",
                title="Pause TikTok Launch",
                description="ROAS 0.70x for 7 days <under target>.",
                source="recommendation",
                agent="Paid Ads agent",
                url=CONSOLE + "agents/campaign/4/change/",
                label="Review campaign",
            ),
            ActionItem(
                priority="medium",
                title="Export Lapsed buyers",
                description="Churn risk 42%.",
                source="recommendation",
                agent="Audience agent",
                url=CONSOLE + "agents/audiencesegment/2/change/",
                label="Review segment",
                detail="reach 2,300",
            ),
        ],
        more_actions=6,
        urgent_count=2,
        prose="Good morning Carmen.\nROAS climbed to 3.84x; Spring Sale <overspent> yesterday.",
        console_url=CONSOLE,
        preferences_url="https://console.example.com/email/preferences/?token=pref.AbC",
        unsubscribe_url="https://console.example.com/email/unsubscribe/?token=unsub.XyZ",
    )


@pytest.mark.parametrize("digest_format", ["full", "summary", "bullet_points"])
def test_a_fixed_brief_renders_as_it_always_has(digest_format: str) -> None:
    rendered = brief_render(fixed_brief(digest_format))
    for part, value in (("html", rendered.html), ("txt", rendered.text)):
        path = GOLDEN / f"daily_brief_{digest_format}.{part}"
        if os.environ.get("EMAIL_GOLDEN_WRITE"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(value, encoding="utf-8")
        assert value == path.read_text(encoding="utf-8"), f"{path.name} differs"
    assert rendered.subject == "Your En Garde Daily Brief - Mar 3 | 2 urgent items need review"


def test_readers_of_the_same_brief_get_their_own_name_and_links() -> None:
    """A batch renders a brief's templates once for every reader it says the same to: what each
    reader gets is still, byte for byte, their brief rendered alone."""
    renderer = BriefRenderer()
    first = fixed_brief("full")
    second = dataclasses.replace(
        first,
        user_id=8,
        recipient_name='Dana "D" <Smith>',
        preferences_url="https://console.example.com/email/preferences/?token=pref.Dana&x=1",
        unsubscribe_url="https://console.example.com/email/unsubscribe/?token=unsub.Dana",
    )
    other = dataclasses.replace(first, digest_format="summary", recipient_name="Eve")
    # Same reader fields and format as `first`, fewer action items: a brief of its own.
    fewer = dataclasses.replace(first, action_items=first.action_items[:1], more_actions=0)
    for brief in (first, second, other, fewer, second):
        assert renderer.render(brief) == brief_render(brief)
    html = renderer.render(second).html
    assert 'Dana "D" &lt;Smith&gt;, here is' in html and "Carmen O" not in html
    assert "token=pref.Dana&amp;x=1" in html and "token=pref.AbC" not in html
    assert 'Dana "D" <Smith>, here is' in renderer.render(second).text
    assert renderer.render(first).html == (GOLDEN / "daily_brief_full.html").read_text("utf-8")
