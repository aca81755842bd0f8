"""Geometry for the server-drawn SVG charts (no inline styles under CSP): numbers in,
positions out. The templates draw them; tables beside them carry the same figures."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# --- the reward profile's weight chart ---------------------------------------------------

CHART_WIDTH = 560
CHART_LABEL = 200  # left column for trait names
CHART_CENTRE = CHART_LABEL + (CHART_WIDTH - CHART_LABEL) / 2
CHART_HALF = 170  # pixels for the largest |weight|; bars grow left (negative) or right
CHART_ROW = 36


@dataclass
class WeightBar:
    trait: object
    weight: float
    x: str = "0"
    width: str = "0"
    y: str = "0"


def weight_bars(traits: list, weights: dict[str, float]) -> list[WeightBar]:
    top = max((abs(w) for w in weights.values()), default=0.0) or 1.0
    bars = []
    for row, trait in enumerate(traits):
        w = weights[trait.slug]
        width = abs(w) / top * CHART_HALF
        bars.append(
            WeightBar(
                trait=trait,
                weight=w,
                x=svg_number(CHART_CENTRE if w >= 0 else CHART_CENTRE - width),
                width=svg_number(width),
                y=svg_number(row * CHART_ROW),
            )
        )
    return bars


def svg_number(value: float) -> str:
    """A coordinate as SVG text. Printed by the template as a string: Django would send
    every number through its locale-aware formatting, which dominated chart rendering."""
    return f"{value:.1f}".removesuffix(".0")


def weight_chart(n_traits: int) -> dict:
    return {
        "width": svg_number(CHART_WIDTH),
        "centre": svg_number(CHART_CENTRE),
        "height": svg_number(n_traits * CHART_ROW + 4),
    }


# --- the policy chart ------------------------------------------------------------------

POLICY_LABEL = 190  # left column for candidate labels
POLICY_BAR_MAX = 300  # pixels for probability 1
POLICY_ROW = 56
POLICY_WIDTH = POLICY_LABEL + POLICY_BAR_MAX + 60


def policy_chart(n_bars: int) -> dict:
    return {
        "width": svg_number(POLICY_WIDTH),
        "height": svg_number(n_bars * POLICY_ROW),
        "label": svg_number(POLICY_LABEL),
    }


# --- the class view's spread charts ------------------------------------------------------

SPREAD_WIDTH = 320
SPREAD_HEIGHT = 96
SPREAD_AXIS = 80  # y of the baseline; labels below it
SPREAD_BINS = 16


@dataclass
class SpreadBar:
    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int


@dataclass
class TraitSpread:
    """How individual learners' weights on one trait are spread, beside the class model's."""

    trait: object
    class_weight: float
    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    bars: list[SpreadBar]
    class_x: float
    low: float
    high: float
    zero_x: float | None


def spread_chart() -> dict:
    return {
        "width": svg_number(SPREAD_WIDTH),
        "height": svg_number(SPREAD_HEIGHT),
        "axis": svg_number(SPREAD_AXIS),
    }


def _spread(trait, values: np.ndarray, class_weight: float, low: float, high: float) -> TraitSpread:
    span = high - low
    bins = np.linspace(low, high, SPREAD_BINS + 1)
    counts, _ = np.histogram(np.clip(values, low, high), bins=bins)
    top = int(counts.max()) if counts.size and counts.max() else 1
    bar_width = SPREAD_WIDTH / SPREAD_BINS
    bars = [
        SpreadBar(
            x=i * bar_width,
            y=SPREAD_AXIS - int(n) / top * (SPREAD_AXIS - 8),
            width=bar_width - 1,
            height=int(n) / top * (SPREAD_AXIS - 8),
            low=float(bins[i]),
            high=float(bins[i + 1]),
            count=int(n),
        )
        for i, n in enumerate(counts)
    ]

    def x_of(value: float) -> float:
        return (min(max(value, low), high) - low) / span * SPREAD_WIDTH

    q = np.quantile(values, [0.0, 0.25, 0.5, 0.75, 1.0]) if values.size else np.zeros(5)
    return TraitSpread(
        trait=trait,
        class_weight=class_weight,
        n=int(values.size),
        minimum=float(q[0]),
        q1=float(q[1]),
        median=float(q[2]),
        q3=float(q[3]),
        maximum=float(q[4]),
        bars=bars,
        class_x=x_of(class_weight),
        low=low,
        high=high,
        zero_x=x_of(0.0) if low < 0 < high else None,
    )


def trait_spreads(
    traits: list, weights: np.ndarray, class_weights: np.ndarray
) -> list[TraitSpread]:
    """One histogram per trait over a shared range (so the charts compare)."""
    everything = np.concatenate([weights.ravel(), class_weights.ravel(), [0.0]])
    low = math.floor(float(everything.min()))
    high = math.ceil(float(everything.max()))
    if high - low < 2:
        low, high = low - 1, high + 1
    return [
        _spread(trait, weights[:, j], float(class_weights[j]), low, high)
        for j, trait in enumerate(traits)
    ]
