"""What a brief says, against the rows it says it about.

The expected figures are computed here from the rows with plain arithmetic, independently of
agents.selectors and the built-in agents the brief reuses; every number in a brief must be one
of them, a date, or a count of rows.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.roles import MARKETING_MANAGER
from agents.models import (
    AgentInstance,
    Campaign,
    CampaignDay,
    ContentItem,
    KeywordRanking,
    PageTraffic,
    SegmentDay,
)
from agents.services import agent_instance_update
from agents.types import AgentType
from channels_app.email.compose import Brief, brief_prose, readers_approvals, tenant_brief_data
from channels_app.email.compose.actions import APPROVALS_READ, user_approvals
from channels_app.email.render import brief_render
from channels_app.email.sending import BriefSender, brief_preview
from channels_app.email.services import preferences_update
from hitl.models import Approval, HoldReason
from hitl.services import approval_request
from tests.agents.fake_langflow import FakeLangflow, run_response
from tests.agents.fake_langflow import FakeResponse as LangflowResponse
from tests.email.conftest import Workspace, seed_marketing
from tests.factories import StaffFactory, TenantFactory

pytestmark = pytest.mark.django_db

CENT, TENTH = Decimal("0.01"), Decimal("0.1")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def q(value: Decimal, step: Decimal) -> Decimal:
    return Decimal(value).quantize(step, ROUND_HALF_UP)


def dollars(value: Decimal) -> str:
    return f"${q(value, CENT):,.2f}"


def compose(workspace: Workspace, **preferences: Any) -> tuple[Brief, str, str]:
    if preferences:
        preferences_update(user=workspace.reader, now=timezone.now(), **preferences)
    workspace.reader.refresh_from_db()
    brief, rendered = brief_preview(user=workspace.reader, now=timezone.now())
    return brief, rendered.text, rendered.html


def paid_ads_expected(workspace: Workspace) -> dict[str, Any]:
    end = workspace.end
    rows = list(CampaignDay.objects.filter(campaign__tenant=workspace.tenant))
    week = [r for r in rows if end - timedelta(days=6) <= r.date <= end]
    before = [r for r in rows if end - timedelta(days=13) <= r.date <= end - timedelta(days=7)]
    spend = sum(r.spend for r in week)
    revenue = sum(r.revenue for r in week)
    roas = q(revenue / spend, CENT)
    roas_before = q(sum(r.revenue for r in before) / sum(r.spend for r in before), CENT)
    active = Campaign.objects.filter(tenant=workspace.tenant, status="active")
    yesterday = {r.campaign_id: r.spend for r in rows if r.date == end}
    by_day = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in week:
        by_day[r.date][0] += r.spend
        by_day[r.date][1] += r.revenue
    by_campaign: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in week:
        by_campaign[r.campaign.name][0] += r.spend
        by_campaign[r.campaign.name][1] += r.revenue
    ranked = sorted(
        ((name, q(rev / sp, CENT), sp) for name, (sp, rev) in by_campaign.items() if sp),
        key=lambda row: (-row[1], row[0]),
    )
    conversions = sum(r.conversions for r in week)
    return {
        "spent": sum(yesterday.get(c.pk, Decimal(0)) for c in active),
        "budget": sum(c.daily_budget for c in active),
        "spend": spend,
        "revenue": revenue,
        "roas": roas,
        "roas_before": roas_before,
        "change": q((roas - roas_before) * 100 / roas_before, TENTH),
        "conversions": conversions,
        "cpa": q(spend / conversions, CENT),
        "by_day": {d: (sp, rev, q(rev / sp, CENT)) for d, (sp, rev) in by_day.items()},
        "ranked": ranked,
        "overspent": [
            (c.name, yesterday[c.pk], c.daily_budget)
            for c in active
            if yesterday.get(c.pk, Decimal(0)) > c.daily_budget
        ],
    }


def test_paid_ads_figures_are_the_rows_figures(workspace: Workspace) -> None:
    _brief, text, html = compose(workspace)
    want = paid_ads_expected(workspace)
    day = f"{workspace.end:%b} {workspace.end.day}"
    assert f"Spend on {day}: {dollars(want['spent'])}" in text
    assert f"of {dollars(want['budget'])} budget" in text
    assert (
        f"ROAS, last 7 days: {want['roas']}x (+{want['change']}% vs {want['roas_before']}x" in text
    )
    assert (
        f"Revenue, last 7 days: {dollars(want['revenue'])} (on {dollars(want['spend'])} spend)"
        in text
    )
    assert (
        f"Conversions, last 7 days: {want['conversions']:,} ({dollars(want['cpa'])} each)" in text
    )
    for d, (spend, revenue, roas) in want["by_day"].items():
        row = re.search(rf"{d:%b} {d.day}\s+(\S+)\s+(\S+)\s+(\S+)x", text)
        assert row is not None, d
        assert row.groups() == (dollars(spend), dollars(revenue), str(roas))
    top = [name for name, _, _ in want["ranked"][:3]]
    assert [
        line.split("  ")[0]
        for line in text.split("Top campaigns, last 7 days\n")[1].splitlines()[2:5]
    ] == top
    # Spring Sale spent 163.00 of 100.00: over half again its budget, so urgent.
    assert ("Spring Sale", Decimal("163.00"), Decimal("100.00")) in want["overspent"]
    assert (
        "! [URGENT] Spring Sale spent $163.00 of its $100.00 daily budget on "
        f"{day} (163.0% of budget)." in text
    )
    assert "! [HIGH] Retargeting spent $88.00 of its $80.00 daily budget" in text
    # The HTML shows the same figures, in a table cell each.
    assert f">{want['roas']}x<" in html and f">{dollars(want['revenue'])}<" in html


def test_seo_content_and_audience_figures_are_the_rows_figures(workspace: Workspace) -> None:
    _brief, text, _html = compose(workspace)
    end, tenant = workspace.end, workspace.tenant
    organic = sum(
        r.organic_sessions
        for r in PageTraffic.objects.filter(tenant=tenant, date__gte=end - timedelta(days=6))
    )
    organic_before = sum(
        r.organic_sessions
        for r in PageTraffic.objects.filter(
            tenant=tenant,
            date__gte=end - timedelta(days=13),
            date__lte=end - timedelta(days=7),
        )
    )
    traffic = q(Decimal(organic - organic_before) * 100 / organic_before, TENTH)
    assert f"Organic sessions, last 7 days: {organic:,} (+{traffic}% vs the week before)" in text
    # Ranking moves: 'trail running shoes' 9 -> 4 is the biggest gain, 'ultralight tent' 22 -> 30
    # the biggest drop, and a drop of 5 places or more is an alert.
    positions = {
        (r.keyword, r.date): r.position for r in KeywordRanking.objects.filter(tenant=tenant)
    }
    was = positions[("ultralight tent", end - timedelta(days=7))]
    now = positions[("ultralight tent", end)]
    assert re.search(rf"ultralight tent\s+{was}\s+{now}\s+-{now - was}", text)
    assert f"'ultralight tent' fell from position {was} to {now}" in text
    assert "'running socks' fell" not in text  # one place down is no alert
    # Content: engagement is engagements over impressions of the last 30 days' posts.
    posts = list(ContentItem.objects.filter(tenant=tenant, status="published"))
    rate = q(
        Decimal(sum(p.engagements for p in posts)) * 100 / sum(p.impressions for p in posts), TENTH
    )
    assert f"Engagement rate: {rate}%" in text
    assert f"Impressions: {sum(p.impressions for p in posts):,}" in text
    best = max(posts, key=lambda p: p.engagements / p.impressions)
    best_rate = q(Decimal(best.engagements) * 100 / best.impressions, TENTH)
    assert re.search(rf"{best.title}\s+.*{best.impressions:,}\s+{best_rate}%", text)
    # Audience: size change over 30 days and churn risk, from the two snapshots.
    lapsed = {r.date: r for r in SegmentDay.objects.filter(segment__name="Lapsed buyers")}
    old, new = lapsed[end - timedelta(days=30)], lapsed[end]
    change = q(Decimal(new.size - old.size) * 100 / old.size, TENTH)
    assert re.search(
        rf"Lapsed buyers\s+{new.size:,}\s+{change}%\s+{q(new.churn_risk * 100, TENTH)}%", text
    )
    assert (
        f"Lapsed buyers: churn risk {q(new.churn_risk * 100, TENTH)}%, up from "
        f"{q(old.churn_risk * 100, TENTH)}%; {new.size:,} people worth ${new.ltv:,.2f} each."
        in text
    )


def expected_numbers(workspace: Workspace) -> set[Decimal]:
    """Every number the brief may state, computed from the rows (and the windows' dates)."""
    ads = paid_ads_expected(workspace)
    tenant, end = workspace.tenant, workspace.end
    found: set[Decimal] = {
        ads[k]
        for k in ("spent", "budget", "spend", "revenue", "roas", "roas_before", "change", "cpa")
    }
    found |= {Decimal(ads["conversions"]), q(ads["spent"] * 100 / ads["budget"], TENTH)}
    for spend, revenue, roas in ads["by_day"].values():
        found |= {spend, revenue, roas}
    for _name, roas, spend in ads["ranked"]:
        found |= {roas, spend}
    for _name, spent, budget in ads["overspent"]:
        found |= {spent, budget, q(spent * 100 / budget, TENTH)}
    week = [
        r
        for r in CampaignDay.objects.filter(campaign__tenant=tenant)
        if r.date > end - timedelta(days=7)
    ]
    for campaign in Campaign.objects.filter(tenant=tenant):
        mine = [r for r in week if r.campaign_id == campaign.pk]
        spend, revenue = sum(r.spend for r in mine), sum(r.revenue for r in mine)
        impressions = sum(r.impressions for r in mine)
        found |= {campaign.daily_budget, campaign.target_roas, spend, revenue}
        if spend:
            # The agent's proposals: 20% more budget, its monthly cost, the reach it buys, the
            # share of budget used; a pause's monthly impressions.
            new_budget = q(campaign.daily_budget * Decimal("1.2"), Decimal("1"))
            extra = (new_budget - campaign.daily_budget) * 30
            found |= {new_budget, extra, Decimal(int(extra / (spend / impressions)))}
            found.add(q(q(spend / 7, CENT) / campaign.daily_budget * 100, Decimal("1")))
            found.add(Decimal(impressions * 30 // 7))
    rankings = list(KeywordRanking.objects.filter(tenant=tenant))
    found |= {Decimal(r.position) for r in rankings} | {Decimal(r.search_volume) for r in rankings}
    found |= {Decimal(len({r.keyword for r in rankings}))}
    now = {r.keyword: r.position for r in rankings if r.date == end}
    before = {r.keyword: r.position for r in rankings if r.date != end}
    found |= {Decimal(abs(now[k] - before[k])) for k in now}
    found |= {Decimal(n) for n in range(0, 7)}  # how many moved up or down, rows of tables
    pages: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in PageTraffic.objects.filter(tenant=tenant, date__gt=end - timedelta(days=30)):
        pages[r.url][0] += r.organic_sessions
        pages[r.url][1] += r.sessions
        pages[r.url][2] += r.conversions
    found |= {Decimal(v) for row in pages.values() for v in row}
    recent = [
        r for r in PageTraffic.objects.filter(tenant=tenant) if r.date > end - timedelta(days=14)
    ]
    organic = sum(r.organic_sessions for r in recent if r.date > end - timedelta(days=7))
    organic_before = sum(r.organic_sessions for r in recent if r.date <= end - timedelta(days=7))
    found |= {Decimal(organic), q(Decimal(organic - organic_before) * 100 / organic_before, TENTH)}
    posts = list(ContentItem.objects.filter(tenant=tenant, status="published"))
    found |= {Decimal(len(posts)), Decimal(sum(p.impressions for p in posts))}
    found |= {Decimal(sum(p.clicks for p in posts))}
    found |= {
        q(
            Decimal(sum(p.engagements for p in posts)) * 100 / sum(p.impressions for p in posts),
            TENTH,
        )
    }
    topics: dict[str, list[ContentItem]] = defaultdict(list)
    for p in posts:
        found |= {Decimal(p.impressions), q(Decimal(p.engagements) * 100 / p.impressions, TENTH)}
        topics[p.topic].append(p)
    for group in topics.values():
        found |= {
            Decimal(len(group)),
            q(
                Decimal(sum(p.engagements for p in group))
                * 100
                / sum(p.impressions for p in group),
                TENTH,
            ),
        }
    segments = list(SegmentDay.objects.filter(segment__tenant=tenant))
    latest = [s for s in segments if s.date == end]
    found |= {Decimal(len(latest)), Decimal(sum(s.size for s in latest)), Decimal("30.0")}
    for s in segments:
        found |= {Decimal(s.size), q(s.churn_risk * 100, TENTH), s.ltv}
        old = next((o for o in segments if o.segment_id == s.segment_id and o.date != s.date), None)
        if old is not None and s.date == end:
            found.add(q(Decimal(s.size - old.size) * 100 / old.size, TENTH).copy_abs())
    return found


def test_every_number_in_the_brief_comes_from_the_data(workspace: Workspace) -> None:
    brief, text, _html = compose(workspace)
    # Dates and the windows' lengths are not claims about the data; links carry tokens and ids.
    body = re.sub(r"https?://\S+", " ", text)
    body = re.sub(r"\b[A-Z][a-z]+ \d{1,2}, \d{4}\b", " ", body)  # November 21, 2026
    body = re.sub(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}\b", " ", body)
    body = body.replace("last 7 days", " ").replace("best trail shoes 2026", " ")
    stated = {Decimal(m.replace(",", "")).copy_abs() for m in NUMBER.findall(body)}
    allowed = expected_numbers(workspace) | {Decimal(brief.urgent_count)}
    allowed |= {Decimal(len(brief.action_items) + brief.more_actions)}
    allowed |= {Decimal(n) for n in range(1, len(brief.action_items) + 1)}  # item numbers
    assert stated - allowed == set(), sorted(stated - allowed)
    assert len(stated) > 60  # the brief is full of figures: this test is not vacuous


def test_subject_counts_the_urgent_items(workspace: Workspace) -> None:
    brief, _text, _html = compose(workspace)
    day = f"{brief.brief_date:%b} {brief.brief_date.day}"
    # Spring Sale's overspend is the one urgent alert.
    assert brief.subject == f"Your En Garde Daily Brief - {day} | 1 urgent item needs review"
    approval_request(
        tenant=workspace.tenant,
        action_type="held_reply",
        hold_reasons=[HoldReason.HUMAN_REQUESTED],
    )
    for approval in workspace.tenant.approvals.all():
        assign_perm("hitl.decide_approval", workspace.reader, approval)
    brief, _text, _html = compose(workspace)
    assert brief.subject.endswith("| 2 urgent items need review")


def test_subject_gives_the_roas_move_when_nothing_is_urgent(workspace: Workspace) -> None:
    CampaignDay.objects.filter(campaign__name="Spring Sale", date=workspace.end).update(
        spend=Decimal("95.00")
    )
    want = paid_ads_expected(workspace)
    brief, _text, _html = compose(workspace)
    assert brief.urgent_count == 0
    whole = q(want["change"], Decimal("1"))
    assert whole > 0
    assert brief.subject.endswith(f"| ROAS up {whole}%")
    assert brief.subject.startswith("Your En Garde Daily Brief - ")


def test_weekly_brief_says_so(workspace: Workspace) -> None:
    brief, _text, _html = compose(workspace, frequency="weekly", weekday=0)
    assert brief.subject.startswith("Your En Garde Weekly Brief - ")


def approvals_for(workspace: Workspace) -> dict[str, Any]:
    """Four approvals: three the reader may decide, one only a colleague may."""
    tenant = workspace.tenant
    colleague = StaffFactory(tenant=tenant, username="dana", roles=[MARKETING_MANAGER])
    made = {
        "low_confidence": approval_request(
            tenant=tenant, action_type="held_reply", hold_reasons=[HoldReason.LOW_CONFIDENCE]
        ),
        "budget": approval_request(
            tenant=tenant,
            action_type="budget_increase",
            hold_reasons=[HoldReason.ACTION],
            estimated_cost=Decimal("600.00"),
            requested_by_agent=AgentType.PAID_ADS,
        ),
        "human": approval_request(
            tenant=tenant, action_type="held_reply", hold_reasons=[HoldReason.HUMAN_REQUESTED]
        ),
        "not_mine": approval_request(
            tenant=tenant, action_type="data_export", hold_reasons=[HoldReason.ACTION]
        ),
    }
    for name, approval in made.items():
        # The workflows already granted their levels' people; make the split exact.
        if name == "not_mine":
            remove_perm("hitl.decide_approval", workspace.reader, approval)
            assign_perm("hitl.decide_approval", colleague, approval)
        else:
            assign_perm("hitl.decide_approval", workspace.reader, approval)
    return made


def test_action_items_rank_the_readers_approvals_and_the_agents_recommendations(
    workspace: Workspace,
) -> None:
    made = approvals_for(workspace)
    brief, text, _html = compose(workspace)
    items = brief.action_items
    assert [(i.priority, i.source) for i in items] == [
        ("urgent", "approval"),  # a person asked for a human
        ("high", "approval"),  # a budget increase
        ("high", "recommendation"),  # pause TikTok Launch: it loses money
        ("medium", "approval"),  # a reply held for low confidence
        ("medium", "recommendation"),
        ("medium", "recommendation"),
        ("medium", "recommendation"),
    ]
    assert items[0].url.endswith(f"/admin/hitl/approval/{made['human'].pk}/change/")
    assert items[1].url.endswith(f"/admin/hitl/approval/{made['budget'].pk}/change/")
    assert "est. $600.00" in items[1].detail
    assert items[2].title == "Pause TikTok Launch"
    assert not any(
        i.url.endswith(f"/{made['not_mine'].pk}/change/") for i in items if i.source == "approval"
    )
    assert "Need your attention: 7 (items)" in text


def test_a_batch_reads_each_readers_approvals_as_they_are_read_alone(
    workspace: Workspace,
) -> None:
    """`readers_approvals` (one read for a batch) gives each reader what `user_approvals` gives
    them: granted to them, to one of their groups, everything for a superuser, nothing of
    another tenant's, the oldest APPROVALS_READ and the total beyond them."""
    made = approvals_for(workspace)
    tenant = workspace.tenant
    by_group = StaffFactory(tenant=tenant, username="gail")
    group = Group.objects.create(name="brief approvers")
    by_group.groups.add(group)
    assign_perm("hitl.decide_approval", group, made["budget"])
    boss = StaffFactory(tenant=tenant, username="root", is_superuser=True)
    nobody = StaffFactory(tenant=tenant, username="nobody")
    other = TenantFactory(slug="globex")
    outsider = StaffFactory(tenant=other, username="oliver", is_superuser=True)
    foreign = approval_request(tenant=other, action_type="held_reply", hold_reasons=[])
    assign_perm("hitl.decide_approval", workspace.reader, foreign)  # never crosses tenants
    many = [
        approval_request(tenant=tenant, action_type="held_reply", hold_reasons=[])
        for _ in range(APPROVALS_READ + 2)
    ]
    assign_perm("hitl.decide_approval", nobody, many[0])
    heavy = StaffFactory(tenant=tenant, username="heavy")
    for approval in many:
        assign_perm("hitl.decide_approval", heavy, approval)
    Approval.objects.filter(pk=made["human"].pk).update(status="approved")  # no longer open
    readers = [workspace.reader, by_group, boss, nobody, outsider, heavy, workspace.admin]
    together = readers_approvals(readers)
    assert set(together) == {user.pk for user in readers}
    for user in readers:
        alone = user_approvals(user)
        assert together[user.pk] == alone, user.username
    assert [a.pk for a in together[by_group.pk][0]] == [made["budget"].pk]
    assert together[heavy.pk][1] == APPROVALS_READ + 2
    assert len(together[heavy.pk][0]) == APPROVALS_READ
    assert together[outsider.pk][0] == [foreign]
    assert made["human"] not in together[boss.pk][0] and made["budget"] in together[boss.pk][0]


def test_min_priority_filters_action_items_and_alerts(workspace: Workspace) -> None:
    approvals_for(workspace)
    brief, _text, _html = compose(workspace, min_priority="low")
    priorities = [i.priority for i in brief.action_items]
    assert "low" in priorities  # publish the scheduled post: the content agent's proposal
    assert any(i.title == "Publish 'Sunrise trail series' now" for i in brief.action_items)

    brief, text, _html = compose(workspace, min_priority="high")
    assert {i.priority for i in brief.action_items} == {"urgent", "high"}
    alerts = [a.priority for s in brief.sections for a in s.alerts]
    assert alerts and set(alerts) <= {"urgent", "high"}
    assert "[MEDIUM]" not in text

    brief, text, _html = compose(workspace, min_priority="urgent")
    assert [i.priority for i in brief.action_items] == ["urgent"]
    assert "[HIGH]" not in text and "[URGENT]" in text


def test_only_the_chosen_sections_are_gathered(workspace: Workspace) -> None:
    approvals_for(workspace)
    brief, text, html = compose(workspace, sections=["seo", "action_items"])
    assert [s.key for s in brief.sections] == ["seo"]
    assert "PAID ADS" not in text and "Paid ads" not in html
    assert "CONTENT (" not in text and "AUDIENCE (" not in text
    # Recommendations follow the sections: no paid-ads or audience proposals, only approvals.
    assert {i.source for i in brief.action_items} == {"approval"}
    assert [s.label for s in brief.summary] == ["Organic sessions", "Need your attention"]

    brief, text, _html = compose(workspace, sections=["paid_ads"])
    assert [s.key for s in brief.sections] == ["paid_ads"]
    assert brief.action_items == [] and "NEEDS YOUR ATTENTION" not in text


def test_a_section_whose_agent_is_off_is_left_out(workspace: Workspace) -> None:
    seo = AgentInstance.objects.select_related("agent", "tenant").get(
        tenant=workspace.tenant, agent__agent_type=AgentType.SEO
    )
    agent_instance_update(instance=seo, enabled=False)
    brief, _text, _html = compose(workspace)
    assert [s.key for s in brief.sections] == ["paid_ads", "content", "audience"]


def test_each_digest_format(workspace: Workspace) -> None:
    approvals_for(workspace)
    full, full_text, full_html = compose(workspace, digest_format="full")
    summary, summary_text, summary_html = compose(workspace, digest_format="summary")
    bullets, bullets_text, bullets_html = compose(workspace, digest_format="bullet_points")

    # Full: figures, tables and every action's description.
    assert 'class="data"' in full_html and "ROAS by day" in full_html
    assert "Top campaigns, last 7 days\n" in full_text
    assert "Pause TikTok Launch: it returned" in full_text
    # Summary: the same headline figures and alerts, no tables, actions by title only.
    assert 'class="stat-value"' in summary_html and 'class="data"' not in summary_html
    assert "ROAS by day" not in summary_text and "Spend on " in summary_text
    assert "[URGENT] Spring Sale spent" in summary_text
    assert (
        "Pause TikTok Launch" in summary_text
        and "Pause TikTok Launch: it returned" not in summary_text
    )
    # Bullet points: each section as sentences, no figure cards or tables.
    assert 'class="bullets"' in bullets_html
    assert 'class="stat-value"' not in bullets_html.split('class="block section"', 1)[1]
    assert 'class="data"' not in bullets_html
    assert "- Spent $" in bullets_text and "Top campaigns: " in bullets_text
    assert "- Spend on " not in bullets_text and "- Spend on " in summary_text
    assert len(summary_text) < len(full_text)
    # The subject and the urgent count do not depend on the format.
    assert full.subject == summary.subject == bullets.subject


def test_text_and_html_parts_and_footer_links(workspace: Workspace) -> None:
    _brief, text, html = compose(workspace)
    assert "/email/unsubscribe/?token=" in text and "/email/preferences/?token=" in text
    assert "/email/unsubscribe/?token=" in html and ">Unsubscribe</a>" in html
    # css-inline moved the style sheet into the elements: no <style> is left for Gmail to drop.
    assert "<style" not in html
    assert 'class="stat-value" style="' in html and "color: #111827" in html


def test_queries_per_brief_do_not_grow_with_the_data(workspace: Workspace) -> None:
    """The tenant's data is read once per batch: a brief then costs the same few queries, with
    two weeks of data or three months, with five campaigns or fifty."""

    def per_brief_queries() -> tuple[int, int]:
        sender = BriefSender(tenant=workspace.tenant, now=timezone.now())
        with CaptureQueriesContext(connection) as tenant_part:
            sender.data  # noqa: B018 - read the tenant's data
        preferences = workspace.reader.email_preferences
        with CaptureQueriesContext(connection) as brief_part:
            brief = sender.compose(preferences, workspace.end)
            brief_render(brief)
        return len(tenant_part), len(brief_part)

    small = per_brief_queries()
    seed_marketing(TenantFactory(slug="bigger"), workspace.end)  # another tenant's rows too
    # Ten times the campaigns and rows, in the reader's own tenant this time.
    for n in range(9):
        Campaign.objects.bulk_create(
            [
                Campaign(
                    tenant=workspace.tenant, platform="meta", name=f"Extra {n}-{i}", daily_budget=10
                )
                for i in range(5)
            ]
        )
    for campaign in Campaign.objects.filter(tenant=workspace.tenant, name__startswith="Extra"):
        CampaignDay.objects.bulk_create(
            [
                CampaignDay(
                    campaign=campaign,
                    date=workspace.end - timedelta(days=d),
                    spend=Decimal("9.00"),
                    impressions=900,
                    clicks=9,
                    conversions=1,
                    revenue=Decimal("20.00"),
                )
                for d in range(90)
            ]
        )
    large = per_brief_queries()
    assert large == small, (small, large)
    assert small[1] <= 6, small


@pytest.fixture
def langflow(workspace: Workspace, settings: Any) -> Iterator[FakeLangflow]:
    """The personal agent on a Langflow flow, served by the fake Langflow."""
    with FakeLangflow(api_key="sk-test") as fake:
        settings.LANGFLOW_API_URL = fake.url
        settings.LANGFLOW_API_KEY = "sk-test"
        settings.LANGFLOW_MAX_RETRIES = 0
        personal = AgentInstance.objects.select_related("agent", "tenant").get(
            tenant=workspace.tenant, agent__agent_type=AgentType.PERSONAL
        )
        agent_instance_update(instance=personal, backend="langflow", flow_id="brief-flow")
        yield fake


def test_a_number_only_a_links_token_holds_is_not_one_the_brief_states(
    workspace: Workspace, langflow: FakeLangflow
) -> None:
    langflow.script(LangflowResponse(status=500))
    brief, text, _html = compose(workspace)
    stated = f"{text}\nUnsubscribe: https://console.example.com/unsubscribe?token=AbC4107xYz"
    langflow.script(LangflowResponse(body=run_response("ROAS jumped 4107% overnight!")))

    assert "4107" not in text
    assert brief_prose(brief, tenant_brief_data(workspace.tenant), stated) == ""


def test_a_langflow_flow_writes_the_prose_and_the_figures_stay_the_datas(
    workspace: Workspace, langflow: FakeLangflow
) -> None:
    want = paid_ads_expected(workspace)
    prose = (
        f"Good morning Carmen. ROAS climbed to {want['roas']}x this week, but Spring Sale "
        "overspent yesterday: start there."
    )
    langflow.script(LangflowResponse(body=run_response(prose)))
    brief, text, html = compose(workspace)
    assert brief.prose == prose
    assert prose in text and "Good morning Carmen." in html
    [request] = langflow.requests
    assert request.flow_id == "brief-flow"
    sent = json.loads(request.body["input_value"])
    assert sent["intent"] == "daily_brief"
    glance = {s["label"]: s["value"] for s in sent["brief"]["at_a_glance"]}
    assert glance["ROAS"] == f"{want['roas']}x"  # the flow is given the figures, not asked
    assert f"ROAS, last 7 days: {want['roas']}x" in text  # and they are rendered from the data


def test_prose_with_a_number_the_data_does_not_hold_is_dropped(
    workspace: Workspace, langflow: FakeLangflow
) -> None:
    langflow.script(LangflowResponse(body=run_response("ROAS jumped 41% overnight!")))
    brief, text, _html = compose(workspace)
    assert brief.prose == "" and "41%" not in text
    # A flow that fails leaves a brief without prose, never without its figures.
    langflow.script(LangflowResponse(status=500))
    brief, text, _html = compose(workspace)
    assert brief.prose == "" and "AT A GLANCE" in text
