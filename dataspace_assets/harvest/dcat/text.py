"""HTML descriptions → Markdown (spec 2.6)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdownify import markdownify


class _TagSniffer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        self.found = True

    def handle_endtag(self, tag) -> None:  # noqa: ANN001
        self.found = True


def has_html(text: str) -> bool:
    """Whether the text contains any HTML start or end tag."""
    if "<" not in text:
        return False  # fast path: most descriptions are plain text
    sniffer = _TagSniffer()
    sniffer.feed(text)
    sniffer.close()
    return sniffer.found


_PRE = re.compile(r"(<pre\b.*?</pre\s*>)", re.IGNORECASE | re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


def collapse_html_whitespace(html: str) -> str:
    """Whitespace runs (source newlines included) as one space, as a browser shows them; `<pre>` kept as is."""
    parts = _PRE.split(html)
    return "".join(part if index % 2 else _WHITESPACE.sub(" ", part) for index, part in enumerate(parts))


def html_to_markdown(text: str | None) -> str:
    """Markdown for an HTML text; a plain text is only stripped."""
    if not text:
        return ""
    text = text.strip()
    if not has_html(text):
        return text
    markdown = markdownify(collapse_html_whitespace(text), heading_style="ATX", bullets="*", strong_em_symbol="*")
    return re.sub(r"\n{3,}", "\n\n", markdown).strip()
