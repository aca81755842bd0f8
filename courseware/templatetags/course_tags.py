from django import template
from django.utils.safestring import SafeString, mark_safe

from courseware.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    # Safe: markdown-it runs with html=False, so any HTML in the source is escaped.
    return mark_safe(render_markdown(text))  # noqa: S308  # nosec
