"""Markdown for admin-edited content. Raw HTML is never rendered: escaped as text."""

from functools import cache, lru_cache

from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


#: Rendered HTML remembered per process, keyed on the source text itself: a pure
#: function of it, so an admin's edit is a new key (never stale). Every visit to a
#: section page used to re-parse the same few texts.
RENDER_CACHE_SIZE = 1024


@lru_cache(maxsize=RENDER_CACHE_SIZE)
def _render(text: str) -> str:
    return _renderer().render(text)


def render_markdown(text: str) -> str:
    return _render(text or "")


@lru_cache(maxsize=RENDER_CACHE_SIZE)
def _render_inline(text: str) -> str:
    return _renderer().renderInline(text)


def render_markdown_inline(text: str) -> str:
    """Markdown without block elements, for text inside a <legend> or a <label>."""
    return _render_inline(text or "")
