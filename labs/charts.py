"""Line charts drawn on the server: numbers in, SVG coordinates out (no inline styles,
as CSP wants). The templates draw them; a table beside each carries the same figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from labeling.charts import svg_number

WIDTH = 560
HEIGHT = 300
LEFT = 64  # room for the y tick labels and the y-axis title
RIGHT = 16
TOP = 16
BOTTOM = 52  # room for the x tick labels and the x-axis title


@dataclass
class Series:
    name: str
    css: str  # line-a | line-b | line-c: colours and dash patterns from labs.css
    values: Sequence[float]
    points: str = ""


@dataclass
class Tick:
    label: str
    at: str  # the pixel position along its axis


@dataclass
class Marker:
    """A vertical line at one x, with a dot on each series."""

    x: str
    label: str
    dots: list[tuple[str, str, str]] = field(default_factory=list)  # (cx, cy, css)


@dataclass
class LineChart:
    width: str
    height: str
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_title: str
    y_title: str
    left: str
    right: str
    top: str
    bottom: str
    x_title_x: str
    x_title_y: str
    y_title_y: str
    zero_y: str | None = None
    marker: Marker | None = None


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / max(count, 1)
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from low to high, about `count` of them (every lab chart's axes)."""
    if high <= low:
        return [low]
    step = _nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


def line_chart(
    xs: Sequence[float],
    series: list[Series],
    *,
    x_title: str,
    y_title: str,
    x_ticks: list[tuple[float, str]] | None = None,
    marker_x: float | None = None,
    marker_values: Sequence[float] | None = None,
    marker_label: str = "",
) -> LineChart:
    """One chart: x values shared by every series, y ranges over every series (and 0)."""
    if not xs:
        raise ValueError("need at least one point")
    x_low, x_high = min(xs), max(xs)
    if x_high - x_low < 1e-12:
        x_high = x_low + 1.0
    values = [v for s in series for v in s.values] + list(marker_values or [])
    y_low, y_high = min([0.0, *values]), max([0.0, *values])
    pad = (y_high - y_low) * 0.05 or 0.5
    y_low, y_high = y_low - pad, y_high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return TOP + (y_high - y) / (y_high - y_low) * plot_h

    for s in series:
        s.points = " ".join(
            f"{svg_number(px(x))},{svg_number(py(y))}" for x, y in zip(xs, s.values, strict=True)
        )
    if x_ticks is None:
        x_ticks = [(t, _label(t)) for t in nice_ticks(x_low, x_high)]
    marker = None
    if marker_x is not None:
        marker = Marker(x=svg_number(px(marker_x)), label=marker_label)
        for s, value in zip(series, marker_values or [], strict=False):
            marker.dots.append((svg_number(px(marker_x)), svg_number(py(value)), s.css))
    return LineChart(
        width=svg_number(WIDTH),
        height=svg_number(HEIGHT),
        series=series,
        x_ticks=[Tick(label, svg_number(px(x))) for x, label in x_ticks if x_low <= x <= x_high],
        y_ticks=[Tick(_label(t), svg_number(py(t))) for t in nice_ticks(y_low, y_high)],
        x_title=x_title,
        y_title=y_title,
        left=svg_number(LEFT),
        right=svg_number(WIDTH - RIGHT),
        top=svg_number(TOP),
        bottom=svg_number(HEIGHT - BOTTOM),
        x_title_x=svg_number(LEFT + plot_w / 2),
        x_title_y=svg_number(HEIGHT - 8),
        y_title_y=svg_number(TOP + plot_h / 2),
        zero_y=svg_number(py(0.0)) if y_low < 0 < y_high else None,
        marker=marker,
    )


def line_chart_xy(
    curves: list[tuple[Sequence[float], Sequence[float]]],
    *,
    css: str,
    x_title: str,
    y_title: str,
) -> LineChart:
    """Many curves, each with its own x values, on one pair of axes (no marker)."""
    xs = [x for cx, _ in curves for x in cx] or [0.0]
    ys = [y for _, cy in curves for y in cy]
    frame = line_chart(
        [min(xs), max(xs)],
        [Series("frame", css, [min([0.0, *ys]), max([0.0, *ys])])],
        x_title=x_title,
        y_title=y_title,
    )
    x_low, x_high = min(xs), max(xs)
    if x_high - x_low < 1e-12:
        x_high = x_low + 1.0
    y_low, y_high = min([0.0, *ys]), max([0.0, *ys])
    pad = (y_high - y_low) * 0.05 or 0.5
    y_low, y_high = y_low - pad, y_high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    frame.series = [
        Series(
            "",
            css,
            list(cy),
            " ".join(
                f"{svg_number(LEFT + (x - x_low) / (x_high - x_low) * plot_w)},"
                f"{svg_number(TOP + (y_high - y) / (y_high - y_low) * plot_h)}"
                for x, y in zip(cx, cy, strict=True)
            ),
        )
        for cx, cy in curves
    ]
    return frame
