"""The labs' URL parsing and chart geometry (pure: no database)."""

from __future__ import annotations

import pytest

from labs import plots
from labs.step_lab import OptimiserState, parse_state, step_links, thinned_rows
from labs.urlstate import LabInputError, choice, flag, whole_number


def test_whole_number_accepts_ascii_digits_in_range_only():
    assert whole_number({}, "n", low=0, high=9, default=4, what="n") == 4
    assert whole_number({"n": "7"}, "n", low=0, high=9, default=4, what="n") == 7
    for raw in ("10", "-1", "٣", "５", "1.5", " 3", "3 ", "1e3", "0x3"):
        with pytest.raises(LabInputError, match="whole number from 0 to 9"):
            whole_number({"n": raw}, "n", low=0, high=9, default=4, what="n")


def test_choice_and_flag():
    assert choice({"b": "0.5"}, "b", (0.1, 0.5), default=0.1, what="β") == 0.5
    with pytest.raises(LabInputError, match="one of 0.1, 0.5"):
        choice({"b": "0.50"}, "b", (0.1, 0.5), default=0.1, what="β")
    assert flag({}, "f", what="f") is False
    assert flag({}, "f", what="f", default=True) is True
    assert flag({"f": "0"}, "f", what="f", default=True) is False
    with pytest.raises(LabInputError):
        flag({"f": "true"}, "f", what="f")


def test_a_state_round_trips_through_its_own_query_string():
    state = OptimiserState(prompt="b", seed=9, steps=30, beta=1.0, batch=16, lr=3.0, clip=True,
                           dpo_beta=0.5, dpo_steps=7, dpo_prior=False)  # fmt: skip
    params = dict(pair.split("=") for pair in state.query().removeprefix("?").split("&"))
    assert parse_state(params, ["a", "b"]) == state
    assert parse_state({}, []) is None  # no held-out prompts: nothing to show


def test_step_links_stop_at_the_cap():
    state = OptimiserState(prompt="a", steps=950)
    links = step_links("/x/", state, field_name="steps", prefix="pg")
    assert [link.href is None for link in links] == [False, False, False]
    assert "steps=1000" in links[2].href  # x100 from 950 goes to the cap, not past it
    capped = step_links("/x/", OptimiserState(prompt="a", steps=1000), field_name="steps",
                        prefix="pg")  # fmt: skip
    assert all(link.href is None for link in capped)


def test_thinned_rows_keep_both_ends():
    assert thinned_rows(3) == [0, 1, 2, 3]
    rows = thinned_rows(1000)
    assert rows[0] == 0 and rows[-1] == 1000 and len(rows) <= 11


def test_line_chart_geometry():
    chart = plots.line_chart([("a", "a", [0.0, 1.0, 2.0])], x_label="step", y_label="y")
    points = [tuple(map(float, p.split(","))) for p in chart.lines[0].points.split()]
    assert points[0] == (plots.LEFT, plots.HEIGHT - plots.BOTTOM)  # (0, 0) at the corner
    assert points[-1][0] == plots.WIDTH - plots.RIGHT
    assert points[-1][1] == plots.TOP  # the largest value at the top
    long = plots.line_chart([("a", "a", list(range(1001)))], x_label="s", y_label="y")
    assert len(long.lines[0].points.split()) <= plots.MAX_POINTS


def test_log_chart_floors_tiny_values():
    chart = plots.line_chart([("kl", "kl", [1.0, 1e-3, 0.0])], x_label="s", y_label="y",
                             log_floor=1e-6)  # fmt: skip
    ys = [float(p.split(",")[1]) for p in chart.lines[0].points.split()]
    assert ys[2] == plots.HEIGHT - plots.BOTTOM  # 0 is drawn at the floor, not at -inf
    assert [t.label for t in chart.y_ticks][0] == "1e-6"
