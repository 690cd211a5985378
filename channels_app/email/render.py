"""Emails as sent: HTML from a Django template with its CSS inlined (css-inline), because Gmail
and Outlook keep inline styles and drop most style sheets, and always a plain-text part."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from typing import Any

import css_inline
from django.template.loader import render_to_string
from django.utils.html import escape

from channels_app.email.compose import Brief

# The style block is only the source of the inline styles: nothing stays in <head>.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    description: str
    subject: str
    html: str
    text: str
    variables: tuple[str, ...]
    custom: bool  # whether POST /send may use it with the caller's subject and body


TEMPLATES = {
    template.name: template
    for template in (
        EmailTemplate(
            name="daily_brief",
            description="The personal agent's brief: paid ads, SEO, content, audience and what "
            "needs attention, as each person's preferences choose. Sent by the schedule or "
            "POST send-daily-brief.",
            subject="Your En Garde Daily Brief - {date} | {highlight}",
            html="emails/daily_brief.html",
            text="emails/daily_brief.txt",
            variables=("brief",),
            custom=False,
        ),
        EmailTemplate(
            name="custom_message",
            description="A message written by a person of the console, with the En Garde "
            "header and footer.",
            subject="{subject}",
            html="emails/custom_message.html",
            text="emails/custom_message.txt",
            variables=("subject", "body"),
            custom=True,
        ),
    )
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def inline(html: str) -> str:
    return _INLINER.inline(html)


def _render(template: EmailTemplate, context: dict[str, Any]) -> tuple[str, str]:
    html = inline(render_to_string(template.html, context))
    text = render_to_string(template.text, context).strip() + "\n"
    return html, text


# What differs between two readers' briefs that say the same: put in after the templates ran.
READER_FIELDS = ("recipient_name", "preferences_url", "unsubscribe_url")


class BriefRenderer:
    """Renders the briefs of a batch. Readers whose briefs say the same (the same figures,
    format, action items...) differ only by READER_FIELDS: the templates run once for all of
    them, with a placeholder for each of those fields, and each reader's values go in after,
    escaped as the template escapes them (autoescape in the HTML, none in the text); the CSS is
    then inlined into each reader's HTML. The placeholders carry a random nonce, so no text of
    a brief can pass for one."""

    def __init__(self) -> None:
        nonce = uuid.uuid4().hex
        self._placeholders = {name: f"[[{nonce}:{name}]]" for name in READER_FIELDS}
        self._pattern = re.compile(rf"\[\[{nonce}:(\w+)\]\]")
        self._rendered: dict[str, tuple[str, str]] = {}

    def render(self, brief: Brief) -> Rendered:
        shape = dataclasses.replace(
            brief,
            user_id=0,
            recipient_name=self._placeholders["recipient_name"],
            preferences_url=self._placeholders["preferences_url"],
            unsubscribe_url=self._placeholders["unsubscribe_url"],
        )
        key = repr(shape)
        found = self._rendered.get(key)
        if found is None:
            context = {"brief": shape}
            template = TEMPLATES["daily_brief"]
            found = (
                render_to_string(template.html, context),
                render_to_string(template.text, context),
            )
            self._rendered[key] = found
        html, text = found
        values = {name: str(getattr(brief, name)) for name in READER_FIELDS}
        html = self._pattern.sub(lambda match: escape(values[match[1]]), html)
        text = self._pattern.sub(lambda match: values[match[1]], text)
        return Rendered(subject=brief.subject, html=inline(html), text=text.strip() + "\n")


def brief_render(brief: Brief) -> Rendered:
    return BriefRenderer().render(brief)


def brief_text(brief: Brief) -> str:
    """The brief's plain text alone: what its prose is checked against."""
    return render_to_string(TEMPLATES["daily_brief"].text, {"brief": brief})


def custom_render(
    *,
    template: str,
    subject: str,
    body: str,
    recipient_name: str,
    sender_name: str,
    tenant_name: str,
    preferences_url: str,
    console_url: str,
) -> Rendered:
    html, text = _render(
        TEMPLATES[template],
        {
            "subject": subject,
            "body": body,
            "recipient_name": recipient_name,
            "sender_name": sender_name,
            "tenant_name": tenant_name,
            "preferences_url": preferences_url,
            "console_url": console_url,
        },
    )
    return Rendered(subject=subject, html=html, text=text)
