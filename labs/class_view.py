"""The instructor's over-optimisation picture of a class: the class's reward model as the
gold against each learner's own model as the proxy. For each learner: how far (in
√KL) the optimal policy for their model can move from the reference before the class's
model stops agreeing, and how much the class's reward has fallen by the end.

A fixed number of queries whatever the class size: the stored class tally (the class
model), and the stored fits of every learner's latest finished session (with names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model

from courseware.models import Classroom
from courseware.selectors import pseudonym
from labeling import catalog, reward
from labeling.class_view import class_latest_sessions
from labeling.models import ClassPickTally, RewardFit

from . import charts, gold, overopt

#: Below this many finished learners the class model is too thin to be anyone's gold.
CLASS_MIN = gold.CLASS_GOLD_MIN
#: At most this many learners' curves are drawn (all are in the table).
CURVES_DRAWN = 60
#: Rows per page of the per-student table (a class of 10,000 would be a 1.5 MB page).
TABLE_PAGE = 200


@dataclass
class LearnerCurve:
    user_id: int
    name: str
    pseudonym: str
    peak_sqrt_kl: float
    peak_beta: float
    peak_gold: float
    last_gold: float
    shape: str  # overopt.Turn.shape

    @property
    def peak_beta_text(self) -> str:
        return "∞" if math.isinf(self.peak_beta) else f"{self.peak_beta:.3g}"

    @property
    def drop(self) -> float:
        return self.peak_gold - self.last_gold


@dataclass
class ClassOveropt:
    classroom: Classroom
    finished: int
    learners: list[LearnerCurve] = field(default_factory=list)
    chart: charts.LineChart | None = None
    shown: bool = False
    curves_drawn: int = 0
    turned_down: int = 0
    median_peak_sqrt_kl: float | None = None

    @property
    def without_fit(self) -> int:
        return max(self.finished - len(self.learners), 0)


def _weights(fit_traits: list[str], fit_weights: list[list[float]], slugs: list[str]):
    stored = dict(
        zip(fit_traits, fit_weights[reward.LAMBDA_STEPS.index(reward.DEFAULT_LAMBDA)], strict=True)
    )
    return [stored.get(slug, 0.0) for slug in slugs]


def class_overoptimisation(*, classroom: Classroom) -> ClassOveropt:
    # The live count of finished learners for the instructor; the class model from the
    # published tally (recounted in steps of five), the one learners' labs use as gold.
    tally = ClassPickTally.objects.filter(classroom=classroom).values_list("finished", "counts")
    finished, counts = next(iter(tally), (0, None))
    counts = counts or {}
    view = ClassOveropt(classroom=classroom, finished=finished)
    if int(counts.get("finished", 0)) < CLASS_MIN:
        return view
    space = catalog.trait_space()
    prompts = catalog.heldout_prompts()
    rows = list(
        RewardFit.objects.filter(session__in=class_latest_sessions(classroom=classroom))
        .order_by("session__user_id")
        .values_list(
            "session__user_id", f"session__user__{get_user_model().USERNAME_FIELD}", "traits",
            "weights",
        )
    )  # fmt: skip
    if not rows or not prompts:
        return view
    view.shown = True
    gold_w = gold.class_gold_weights(counts)
    proxy_w = np.array([_weights(traits, weights, space.slugs) for _, _, traits, weights in rows])
    matrices = [np.stack([space.vector(c.traits) for c in p.candidate_list]) for p in prompts]
    pi_refs = [np.array([c.ref_prob for c in p.candidate_list]) for p in prompts]
    sweeps = overopt.sweep_many(
        pi_refs, [proxy_w @ m.T for m in matrices], [m @ gold_w for m in matrices]
    )
    # Every curve starts at the reference policy: KL 0, no gain (β = ∞).
    sqrt_kl = np.concatenate([np.zeros((len(rows), 1)), sweeps.sqrt_kl], axis=1)
    golds = np.concatenate([np.zeros((len(rows), 1)), sweeps.gold], axis=1)
    betas = [math.inf, *sweeps.betas.tolist()]
    for i, (user_id, name, _, _) in enumerate(rows):
        turn = overopt.gold_turn(golds[i].tolist())
        view.learners.append(
            LearnerCurve(
                user_id=user_id,
                name=name,
                pseudonym=pseudonym(classroom_id=classroom.pk, user_id=user_id),
                peak_sqrt_kl=float(sqrt_kl[i, turn.peak_index]),
                peak_beta=betas[turn.peak_index],
                peak_gold=turn.peak_gold,
                last_gold=turn.last_gold,
                shape=turn.shape,
            )
        )
    view.turned_down = sum(1 for c in view.learners if c.shape != "no-fall")
    view.median_peak_sqrt_kl = float(np.median([c.peak_sqrt_kl for c in view.learners]))
    # Soonest trouble first: falling from the start, then by where the class reward peaks;
    # models the class never disagrees with last.
    rank = {"falls": 0, "rise-then-fall": 1, "no-fall": 2}
    view.learners.sort(key=lambda c: (rank[c.shape], c.peak_sqrt_kl, c.user_id))
    view.curves_drawn = min(len(rows), CURVES_DRAWN)
    view.chart = _chart(sqrt_kl[:CURVES_DRAWN], golds[:CURVES_DRAWN])
    return view


def _chart(sqrt_kl: np.ndarray, golds: np.ndarray) -> charts.LineChart:
    """Each learner's class-reward curve against their own √KL (the x values differ per
    learner, so each curve carries its own)."""
    chart = charts.line_chart_xy(
        [(row_x.tolist(), row_y.tolist()) for row_x, row_y in zip(sqrt_kl, golds, strict=True)],
        css="line-thin",
        x_title="√KL(π*_β ‖ π_ref) of the student's own model, nats^½",
        y_title="class reward gain (ref. sd)",
    )
    if chart.series:
        chart.series[0].name = "One line per student's model"
    return chart
