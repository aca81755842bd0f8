"""Geometry for the optimiser and RLVR labs' server-drawn SVG charts: numbers in, SVG
coordinates (as text) out. Templates draw them with classes, never inline styles (CSP);
a data table beside every chart carries the same figures for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labeling.charts import svg_number

from .charts import nice_ticks

#: The plotting area of a line chart, and the margins its axis labels use.
WIDTH = 560
HEIGHT = 220
LEFT = 64
RIGHT = 16
TOP = 12
BOTTOM = 40
#: At most this many points per line (a long run is thinned, keeping both ends).
MAX_POINTS = 200


@dataclass(frozen=True)
class Tick:
    position: str
    label: str


@dataclass(frozen=True)
class Line:
    key: str  # css class suffix: line-<key>
    name: str
    points: str  # "x,y x,y ..."
    last_x: str = "0"
    last_y: str = "0"


@dataclass
class LineChart:
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_label: str
    y_label: str
    width: str = svg_number(WIDTH)
    height: str = svg_number(HEIGHT)
    left: str = svg_number(LEFT)
    right: str = svg_number(WIDTH - RIGHT)
    top: str = svg_number(TOP)
    bottom: str = svg_number(HEIGHT - BOTTOM)
    x_label_y: str = svg_number(HEIGHT - 4)
    centre: str = svg_number(LEFT + (WIDTH - LEFT - RIGHT) / 2)
    middle: str = svg_number(TOP + (HEIGHT - TOP - BOTTOM) / 2)
    tick_x: str = svg_number(LEFT - 6)
    tick_y: str = svg_number(HEIGHT - BOTTOM + 16)


def thin(n: int) -> list[int]:
    """Indices 0..n-1, at most MAX_POINTS of them, evenly spread, first and last kept."""
    if n <= MAX_POINTS:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, MAX_POINTS)})


def _label(value: float) -> str:
    return f"{value:g}"


def line_chart(
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    y_range: tuple[float, float] | None = None,
    log_floor: float | None = None,
) -> LineChart:
    """Lines over steps 0..n-1 (every series has n values).

    ``log_floor``: a log-scale y axis from that floor (values below it are drawn at it),
    for distances that shrink by orders of magnitude; otherwise linear over ``y_range``
    or the data's own range (always including 0)."""
    n = max(len(values) for _, _, values in series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    data = [np.asarray(values, dtype=np.float64) for _, _, values in series]
    if log_floor is not None:
        top = max(float(np.max(d)) for d in data)
        high = math.ceil(math.log10(max(top, log_floor * 10)))
        low = math.floor(math.log10(log_floor))

        def y_value(v: np.ndarray) -> np.ndarray:
            return np.log10(np.maximum(v, 10.0**low))

        y_ticks_values = list(range(low, high + 1))
        y_tick_labels = [f"1e{t}" if t not in (0, 1) else f"{10**t:g}" for t in y_ticks_values]
    else:
        if y_range is None:
            low = min(0.0, min(float(np.min(d)) for d in data))
            high = max(0.0, max(float(np.max(d)) for d in data))
            if high - low < 1e-9:
                high = low + 1.0
        else:
            low, high = y_range

        def y_value(v: np.ndarray) -> np.ndarray:
            return v

        y_ticks_values = nice_ticks(low, high)
        y_tick_labels = [_label(t) for t in y_ticks_values]
    span = (high - low) or 1.0
    last = max(n - 1, 1)

    def x_of(i: float) -> float:
        return LEFT + i / last * plot_w

    def y_of(v: float) -> float:
        return TOP + (1 - (v - low) / span) * plot_h

    lines = []
    for (key, name, _), values in zip(series, data, strict=True):
        kept = thin(values.size)
        ys = y_value(values[kept])
        coords = [(x_of(i), y_of(float(y))) for i, y in zip(kept, ys, strict=True)]
        lines.append(
            Line(
                key=key,
                name=name,
                points=" ".join(f"{svg_number(x)},{svg_number(y)}" for x, y in coords),
                last_x=svg_number(coords[-1][0]),
                last_y=svg_number(coords[-1][1]),
            )
        )
    x_ticks = [Tick(svg_number(x_of(t)), _label(t)) for t in nice_ticks(0, last, 5) if t == int(t)]
    y_ticks = [
        Tick(svg_number(y_of(v)), label)
        for v, label in zip(y_ticks_values, y_tick_labels, strict=True)
    ]
    return LineChart(lines, x_ticks, y_ticks, x_label, y_label)


#: Horizontal probability bars: label column, bar length for probability 1.
BAR_LABEL = 180
BAR_MAX = 300
BAR_ROW = 22


@dataclass(frozen=True)
class Bar:
    key: str  # css class suffix: bar-<key>
    width: str
    y: str
    text_x: str
    text_y: str
    percent: str


@dataclass(frozen=True)
class BarGroup:
    label: str
    y: str
    bars: list[Bar]


def probability_bars(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> tuple[list[BarGroup], dict]:
    """One group of bars per label (one bar per series), lengths proportional to p."""
    groups = []
    per = len(series)
    group_height = per * BAR_ROW + 14
    for i, label in enumerate(labels):
        top = i * group_height
        bars = []
        for j, (key, values) in enumerate(series):
            p = float(values[i])
            y = top + j * BAR_ROW
            bars.append(
                Bar(
                    key=key,
                    width=svg_number(max(p, 0.0) * BAR_MAX),
                    y=svg_number(y + 2),
                    text_x=svg_number(BAR_LABEL + max(p, 0.0) * BAR_MAX + 6),
                    text_y=svg_number(y + 16),
                    percent=f"{p * 100:.1f}%",
                )
            )
        groups.append(BarGroup(label=label, y=svg_number(top + 16), bars=bars))
    geometry = {
        "width": svg_number(BAR_LABEL + BAR_MAX + 70),
        "height": svg_number(max(len(labels) * group_height, 1)),
        "label": svg_number(BAR_LABEL),
    }
    return groups, geometry
