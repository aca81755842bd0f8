"""What the over-optimisation lab page shows: the sweeps, the marked beta and n, the
charts and their tables, and the quick picks that build the learner's own gold."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from django.utils.safestring import SafeString, mark_safe

from labeling import catalog
from labeling.fits import BETAS, LearnerFit

from . import charts, gold, overopt

DEFAULT_BETA = 0.1  # DPO's default, as on the policy page
DEFAULT_N = 16
BETA_TICKS = (100.0, 10.0, 1.0, 0.1, 0.01, 0.001)
#: One row of a figures table: a row header and four numbers.
ROW = (
    '<tr><th scope="row" class="num">{}</th><td class="num">{}</td><td class="num">{}</td>'
    '<td class="num">{}</td><td class="num">{}</td></tr>'
)


class LabInputError(ValueError):
    """A parameter the page cannot use (answered 400)."""


def parse_beta(raw: str | None) -> float:
    """?beta= is the slider's stop, 0 … 9, as on the policy page (so a link can carry it)."""
    if raw is None or raw == "":
        return DEFAULT_BETA
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2 and int(raw) < len(BETAS)):
        raise LabInputError(f"β must be a stop from 0 to {len(BETAS) - 1} of the slider.")
    return BETAS[int(raw)]


def parse_n(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_N
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2) or not (
        1 <= int(raw) <= overopt.BON_MAX
    ):
        raise LabInputError(f"n must be a whole number from 1 to {overopt.BON_MAX}.")
    return int(raw)


def beta_label(beta: float) -> str:
    return f"{beta:g}"


@dataclass
class Picking:
    """The quick picks between held-out candidates."""

    pairs: list[gold.HeldoutPair]
    done: int
    next_pair: gold.HeldoutPair | None
    prompts_ready: int
    prompts_total: int


@dataclass
class OveroptView:
    has_fit: bool
    rewards: gold.Rewards
    picking: Picking
    beta: float
    n: int
    betas: tuple[float, ...] = BETAS
    sweep: list[overopt.SweepPoint] = field(default_factory=list)
    at_beta: overopt.SweepPoint | None = None
    turn: overopt.Turn | None = None
    bon: list[overopt.BonPoint] = field(default_factory=list)
    at_n: overopt.BonPoint | None = None
    bon_turn: overopt.Turn | None = None
    sweep_chart: charts.LineChart | None = None
    bon_chart: charts.LineChart | None = None
    entropy_chart: charts.LineChart | None = None
    entropy_uniform_bits: float = 0.0
    # The tables' rows, written here rather than as a template loop (see `_table_rows`).
    sweep_rows: str = ""
    bon_rows: str = ""

    @property
    def beta_label(self) -> str:
        return beta_label(self.beta)

    @property
    def beta_index(self) -> int:
        return self.betas.index(self.beta)

    @property
    def beta_values(self) -> str:
        """The slider's stops as JSON, for the live read-out (labs.js)."""
        return "[" + ",".join(f'"{beta_label(b)}"' for b in self.betas) + "]"

    @property
    def peak(self) -> overopt.SweepPoint | None:
        return self.sweep[self.turn.peak_index] if self.turn else None

    @property
    def bon_peak(self) -> overopt.BonPoint | None:
        return self.bon[self.bon_turn.peak_index] if self.bon_turn else None

    @property
    def gold_kind_label(self) -> str:
        return {"class": "your class's reward model", "own": "your own held-out picks"}.get(
            self.rewards.kind, ""
        )


def picking_state(picks: dict[tuple[int, int], int]) -> Picking:
    prompts = catalog.heldout_prompts()
    offered = [
        gold.HeldoutPair(p.prompt, p.first, p.second, picks.get(p.key))
        for p in gold.offered_pairs(prompts)
    ]
    per_prompt: dict[int, int] = {}
    for pair in offered:
        if pair.winner_id is not None:
            per_prompt[pair.prompt.pk] = per_prompt.get(pair.prompt.pk, 0) + 1
    return Picking(
        pairs=offered,
        done=sum(1 for p in offered if p.winner_id is not None),
        next_pair=next((p for p in offered if p.winner_id is None), None),
        prompts_ready=sum(1 for n in per_prompt.values() if n >= gold.OWN_GOLD_MIN_PER_PROMPT),
        prompts_total=len(prompts),
    )


def overopt_view(
    *, learner: LearnerFit, picks: dict[tuple[int, int], int], beta: float, n: int
) -> OveroptView:
    rewards = gold.learner_rewards(learner=learner, picks=picks)
    view = OveroptView(
        has_fit=learner.fit is not None,
        rewards=rewards,
        picking=picking_state(picks),
        beta=beta,
        n=n,
    )
    if not rewards.ready:
        return view
    prompts = rewards.per_prompt
    view.sweep = [overopt.reference_point(prompts), *overopt.sweep(prompts)]
    view.at_beta = overopt.policy_point(prompts, beta)
    view.turn = overopt.gold_turn([p.gold for p in view.sweep])
    view.bon = overopt.best_of_n_curve(prompts, range(1, overopt.BON_MAX + 1))
    view.at_n = view.bon[n - 1]
    view.bon_turn = overopt.gold_turn([p.gold for p in view.bon])
    view.sweep_rows = _table_rows(
        (p.beta_text, _f(p.sqrt_kl), _f(p.proxy), _f(p.gold), _f(p.entropy_bits))
        for p in view.sweep
    )
    view.bon_rows = _table_rows(
        (str(p.n), _f(p.kl_bon), _f(p.kl_exact), _f(p.proxy), _f(p.gold)) for p in view.bon
    )
    view.entropy_uniform_bits = sum(math.log2(p.pi_ref.size) for p in prompts) / len(prompts)
    _draw(view)
    return view


def _table_rows(rows) -> SafeString:
    """A figures table's rows. Written in Python rather than as a template loop, as
    courseware's outline is: ~560 cells each cost a template lookup and a filter, more
    than the sweeps themselves. Every cell is escaped here, then the whole is marked
    safe once."""
    html = "".join(ROW.format(*(escape(cell) for cell in row)) for row in rows)
    return mark_safe(html)  # noqa: S308  # nosec


def _f(value: float) -> str:
    """Three decimals with a true minus sign, no "-0.000"."""
    text = f"{value:.3f}"
    if text.startswith("-"):
        return "0.000" if not text.strip("-0.") else "−" + text[1:]
    return text


def _draw(view: OveroptView) -> None:
    at = view.at_beta
    view.sweep_chart = charts.line_chart(
        [p.sqrt_kl for p in view.sweep],
        [
            charts.Series("Proxy: your six-pick model", "line-a", [p.proxy for p in view.sweep]),
            charts.Series(f"Gold: {view.gold_kind_label}", "line-b", [p.gold for p in view.sweep]),
        ],
        x_title="√KL(π*_β ‖ π_ref), nats^½",
        y_title="reward gain (ref. sd)",
        marker_x=at.sqrt_kl,
        marker_values=[at.proxy, at.gold],
        marker_label=f"β = {view.beta_label}",
    )
    bon_at = view.at_n
    view.bon_chart = charts.line_chart(
        [p.sqrt_kl for p in view.bon],
        [
            charts.Series("Proxy: your six-pick model", "line-a", [p.proxy for p in view.bon]),
            charts.Series(f"Gold: {view.gold_kind_label}", "line-b", [p.gold for p in view.bon]),
        ],
        x_title="√KL_bon, KL_bon = log n − (n−1)/n",
        y_title="reward gain (ref. sd)",
        marker_x=bon_at.sqrt_kl,
        marker_values=[bon_at.proxy, bon_at.gold],
        marker_label=f"n = {view.n}",
    )
    finite = view.sweep[1:]  # the entropy chart's axis is log β: the reference is off it
    view.entropy_chart = charts.line_chart(
        [-math.log10(p.beta) for p in finite],
        [charts.Series("Entropy of π*_β", "line-c", [p.entropy_bits for p in finite])],
        x_title="β, from large (left) to small (right), log scale",
        y_title="entropy (bits)",
        x_ticks=[(-math.log10(b), beta_label(b)) for b in BETA_TICKS],
        marker_x=-math.log10(view.beta),
        marker_values=[at.entropy_bits],
        marker_label=f"β = {view.beta_label}",
    )
