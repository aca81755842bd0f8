from django import template
from django.utils.safestring import SafeString, mark_safe

from courseware.markdown import _renderer

register = template.Library()


@register.filter(name="markdown_inline")
def markdown_inline(text: str) -> SafeString:
    """Markdown without block elements, for text inside a <legend> or a <label>."""
    # Safe: the shared renderer runs with html=False, so raw HTML is escaped.
    return mark_safe(_renderer().renderInline(text or ""))  # noqa: S308  # nosec


@register.filter(name="duration_text")
def duration_text(duration) -> str:
    """'4 min 12 s' for a timedelta; '' for None."""
    if duration is None:
        return ""
    seconds = max(0, round(duration.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
