"""Markdown to HTML that is safe to put in a page, for user and agent messages alike.

Two layers, so that a bug in one is not enough: markdown-it renders with raw HTML disabled (a
`<script>` in a message becomes text) and refuses unsafe link schemes itself, then nh3 (the Rust
ammonia sanitiser) keeps only the tags and attributes a chat bubble needs, with http, https and
mailto as the only URL schemes. Links open in a new tab without access to this page (`noopener
noreferrer`) and are marked `nofollow`. Images are not kept: a remote image would tell its host
who read the message, and when; an image becomes a link to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "ol": {"start"},
}
ALIGNMENTS = {"align-left", "align-right", "align-center"}
URL_SCHEMES = {"http", "https", "mailto"}
# markdown-it writes a table column's alignment as a style attribute, which the page's
# Content-Security-Policy would refuse (no inline styles): it becomes a class instead.
_ALIGNED_CELL = re.compile(r'<(th|td) style="text-align:(left|right|center)">')

_markdown = (
    MarkdownIt(
        "commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}
    )
    .enable("table")
    .enable("strikethrough")
)


def _image_as_link(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrs.get("src", ""))
    label = token.content or src
    return f'<a href="{escapeHtml(src)}">{escapeHtml(label)}</a>'


_markdown.add_render_rule("image", _image_as_link)


def _code_class(tag: str, attribute: str, value: str) -> str | None:
    # Only the fence's language hint ("language-sql") survives on <code>.
    if tag == "code" and attribute == "class":
        return value if value.startswith("language-") and value[9:].isalnum() else None
    return value


def markdown_html(text: str) -> str:
    """The message as sanitised HTML."""
    return nh3.clean(
        _ALIGNED_CELL.sub(r'<\1 class="align-\2">', _markdown.render(text or "")),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        attribute_filter=_code_class,
        allowed_classes={"th": ALIGNMENTS, "td": ALIGNMENTS},
        strip_comments=True,
    )
