"""What a user or an agent writes is rendered from markdown to HTML that cannot run script."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from channels_app.chat.render import markdown_html

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "<svg onload=window.__pwned=1>",
    "<iframe src=javascript:window.__pwned=1></iframe>",
    "[click](javascript:window.__pwned=1)",
    "[click](JaVaScRiPt:window.__pwned=1)",
    "[click](  javascript:window.__pwned=1)",
    "[click](&#106;avascript:window.__pwned=1)",
    "[click](vbscript:msgbox)",
    "[click](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)",
    "![x](javascript:window.__pwned=1)",
    '[x](https://example.com "a\\" onmouseover=\\"window.__pwned=1")',
    "[x][ref]\n\n[ref]: javascript:window.__pwned=1",
    '<a href="https://ok.example" onclick="window.__pwned=1">ok</a>',
    "```html\n<script>window.__pwned=1</script>\n```",
    "`<img src=x onerror=window.__pwned=1>`",
    '```js" onmouseover="window.__pwned=1\nx\n```',
    "<style>body{display:none}</style>",
    "| a |\n|---|\n| <img src=x onerror=window.__pwned=1> |",
    "<details open ontoggle=window.__pwned=1>",
    '| a |\n|:-:|\n| x |\n\n<td style="text-align:left" onclick="window.__pwned=1">',
]

SAFE_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


class Elements(HTMLParser):
    """Every element and attribute of a fragment, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert(payload: str) -> None:
    html = markdown_html(payload)
    for tag, attrs in Elements(html).found:
        assert tag in SAFE_TAGS, (payload, html)
        for name, value in attrs:
            assert not name.startswith("on"), (payload, html)
            if name == "href":
                assert urlsplit(value or "").scheme in ("http", "https", "mailto"), (payload, html)
            assert name in ("href", "title", "target", "rel", "class", "start"), html


def test_raw_html_is_shown_as_text() -> None:
    assert markdown_html("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_code_blocks_keep_their_text_escaped_and_a_language_class() -> None:
    html = markdown_html("```sql\nselect '<script>' from t;\n```")
    assert html == (
        "<pre><code class=\"language-sql\">select '&lt;script&gt;' from t;\n</code></pre>\n"
    )


def test_a_code_fence_cannot_smuggle_attributes() -> None:
    html = markdown_html('```js" onmouseover="x\ncode\n```')
    assert "onmouseover" not in html.split(">")[1]
    assert "<code>" in html or 'class="language-js"' not in html


def test_tables_are_rendered_with_alignment_only() -> None:
    html = markdown_html("| Campaign | ROAS |\n|:--|--:|\n| Spring | 3.10x |")
    assert "<table>" in html and '<th class="align-left">Campaign</th>' in html
    assert '<td class="align-right">3.10x</td>' in html
    assert "style=" not in html  # the page's CSP allows no inline style


def test_links_open_safely_and_images_become_links() -> None:
    html = markdown_html("[report](https://example.com/r) ![chart](https://example.com/c.png)")
    assert (
        '<a href="https://example.com/r" target="_blank" rel="noopener noreferrer nofollow">'
        "report</a>"
    ) in html
    assert "<img" not in html
    assert '<a href="https://example.com/c.png"' in html and ">chart</a>" in html


def test_emphasis_lists_and_line_breaks() -> None:
    assert markdown_html("**Spend** is *up*\n- a\n- b") == (
        "<p><strong>Spend</strong> is <em>up</em></p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    )
    assert markdown_html("one\ntwo") == "<p>one<br>\ntwo</p>\n"
