from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from courseware.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    # Safe: markdown-it runs with html=False, so any HTML in the source is escaped.
    return mark_safe(render_markdown(text))  # noqa: S308  # nosec


@register.filter(name="fixed")
def fixed(value, digits: int = 2) -> str:
    """A float with a fixed number of decimals ("0.25", "-1.40"): Django's floatformat
    goes through Decimal and the locale machinery, which cost a millisecond or more on
    pages that print dozens of figures. Anything that is not a number prints as is."""
    try:
        text = f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.00"


_MARKS = {"done": ("is-done", "✓", "(done)"), "seen": ("is-seen", "•", "(started)"),
          "new": ("", "○", "(not started)")}  # fmt: skip


@register.simple_tag
def outline_items(outline, current=None) -> SafeString:
    """The module outline's list items, with this learner's progress.

    Written in Python rather than as a template loop: every section page shows it, and
    the loop's dozens of lookups per section cost more than the rest of the layout."""
    current_pk = getattr(current, "pk", None)
    items = []
    for entry in outline:
        state = "done" if entry.done else "seen" if entry.seen else "new"
        css, mark, spoken = _MARKS[state]
        items.append(
            format_html(
                '<li class="{}"><a href="{}"{}><span class="progress-mark" aria-hidden="true">'
                '{}</span> {} <span class="visually-hidden">{}</span></a></li>',
                css,
                entry.section.url,
                mark_safe(' aria-current="page"') if entry.section.pk == current_pk else "",  # noqa: S308  # nosec
                mark,
                entry.section.title,
                spoken,
            )
        )
    # Each item was escaped by format_html.
    return mark_safe("\n".join(items))  # noqa: S308  # nosec
