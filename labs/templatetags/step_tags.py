from django import template

register = template.Library()


@register.filter(name="nats")
def nats(value) -> str:
    """A distance that shrinks by orders of magnitude: four decimals while that says
    something, then two significant figures ("3.1e-06"), and 0 when it is exactly 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if x == 0:
        return "0"
    return f"{x:.4f}" if abs(x) >= 1e-3 else f"{x:.1e}"


@register.filter(name="percent")
def percent(value, digits: int = 1) -> str:
    """A probability as a percentage ("12.5%")."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@register.filter(name="signed")
def signed(value, digits: int = 2) -> str:
    """A number with its sign always written ("+0.40", "−1.20"), for advantages."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    text = f"{abs(x):.{int(digits)}f}"
    if float(text) == 0:
        return text
    return ("+" if x > 0 else "−") + text
