from django import template
from django.utils.safestring import SafeString, mark_safe

from courseware.markdown import render_markdown_inline

register = template.Library()


@register.filter(name="markdown_inline")
def markdown_inline(text: str) -> SafeString:
    """Markdown without block elements, for text inside a <legend> or a <label>."""
    # Safe: the shared renderer runs with html=False, so raw HTML is escaped.
    return mark_safe(render_markdown_inline(text))  # noqa: S308  # nosec


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


@register.filter(name="percent")
def percent(value: float | None) -> str:
    """'72 %' for 0.72; 'n/a' for None (an undefined statistic)."""
    if value is None:
        return "n/a"
    return f"{round(value * 100)} %"


@register.filter(name="stat")
def stat(value: float | None) -> str:
    """A statistic in -1..1 with two decimals and a real minus sign; 'n/a' for None."""
    if value is None:
        return "n/a"
    return f"{value:.2f}".replace("-", "\u2212")


@register.filter(name="bar_width")
def bar_width(value: float | None) -> str:
    """An SVG bar's width (viewBox 0..100) for a share 0..1."""
    return f"{max(0.0, min(1.0, value or 0.0)) * 100:.2f}"
