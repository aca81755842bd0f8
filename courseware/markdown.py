"""Markdown for admin-edited content. Raw HTML is never rendered: escaped as text."""

from functools import cache

from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


def render_markdown(text: str) -> str:
    return _renderer().render(text or "")
