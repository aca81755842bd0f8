"""Reads for the labeling pages. Each function costs a fixed number of queries."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BigIntegerField, Case, Count, Prefetch, QuerySet, Sum, Value, When
from django.shortcuts import get_object_or_404

from courseware import selectors as course_selectors
from courseware.models import Classroom, Enrollment

from . import agreement, reward
from .models import (
    Candidate,
    HeldOutPrompt,
    LabelingSession,
    Pick,
    PreferencePair,
    Principle,
    Response,
    ResponseKey,
    ScreenSide,
    SessionPair,
    Trait,
)

#: Class agreement is shown only when this many classmates have finished: with
#: fewer, a share would point at individuals.
CLASS_MIN_FINISHED = 5


# --------------------------------------------------------------------------- traits


@dataclass(frozen=True)
class TraitSpace:
    traits: list[Trait]

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self.traits]

    @property
    def phrases(self) -> dict[str, str]:
        return {t.slug: t.phrase for t in self.traits}

    def vector(self, values: dict) -> np.ndarray:
        """Trait values in this space's order; a trait added later in admin reads as 0."""
        return np.array([float(values.get(slug, 0.0)) for slug in self.slugs], dtype=np.float64)


def trait_space() -> TraitSpace:
    return TraitSpace(list(Trait.objects.all()))


# ------------------------------------------------------------------------ sessions


def session_for_user(*, user: AbstractBaseUser, pk: int) -> LabelingSession:
    """A learner's own session; anyone else's is a 404, so ids reveal nothing."""
    return get_object_or_404(LabelingSession, pk=pk, user=user)


def session_open(*, user: AbstractBaseUser) -> LabelingSession | None:
    return LabelingSession.objects.filter(user=user, finished_at__isnull=True).first()


def session_latest_finished(*, user: AbstractBaseUser) -> LabelingSession | None:
    return LabelingSession.objects.filter(user=user).finished().order_by("-finished_at").first()


@dataclass
class ShownItem:
    """One pair of a session as this learner sees it."""

    position: int
    shown: SessionPair
    left: Response
    right: Response
    picked_side: str | None = None

    @property
    def pair(self):
        return self.shown.pair

    def response_for_side(self, side: str) -> Response:
        return self.left if side == ScreenSide.LEFT else self.right

    @property
    def chosen(self) -> Response | None:
        return self.response_for_side(self.picked_side) if self.picked_side else None

    @property
    def rejected(self) -> Response | None:
        if not self.picked_side:
            return None
        other = ScreenSide.RIGHT if self.picked_side == ScreenSide.LEFT else ScreenSide.LEFT
        return self.response_for_side(other)


@dataclass
class SessionState:
    session: LabelingSession
    items: list[ShownItem]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def picked(self) -> int:
        return sum(item.picked_side is not None for item in self.items)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.picked == self.total

    def item_at(self, position: int) -> ShownItem | None:
        return next((i for i in self.items if i.position == position), None)

    def first_unpicked(self) -> ShownItem | None:
        return next((i for i in self.items if i.picked_side is None), None)

    def next_unpicked_after(self, position: int) -> ShownItem | None:
        later = [i for i in self.items if i.position > position and i.picked_side is None]
        return later[0] if later else self.first_unpicked()


def session_state(*, session: LabelingSession) -> SessionState:
    """The session's pairs in order with both responses and the current picks: 3 queries."""
    shown = list(
        session.shown.select_related("pair").prefetch_related(
            Prefetch("pair__responses", queryset=Response.objects.order_by("key"))
        )
    )
    picks = dict(session.picks.values_list("pair_id", "chosen_left"))
    items = []
    for entry in shown:
        responses = {r.key: r for r in entry.pair.responses.all()}
        item = ShownItem(
            position=entry.position,
            shown=entry,
            left=responses[entry.left],
            right=responses[entry.right],
        )
        if entry.pair_id in picks:
            item.picked_side = ScreenSide.LEFT if picks[entry.pair_id] else ScreenSide.RIGHT
        items.append(item)
    return SessionState(session=session, items=items)


@dataclass(frozen=True)
class LabelingStatus:
    picked: int
    total: int
    finished: bool
    sessions_finished: int


def labeling_status(*, user: AbstractBaseUser) -> LabelingStatus:
    """For the overview panel: picks in the open session, or the last finished one. 1 query."""
    sessions = list(
        LabelingSession.objects.filter(user=user)
        .annotate(n_picks=Count("picks", distinct=True), n_pairs=Count("shown", distinct=True))
        .order_by("-started_at")[:50]
    )
    finished = [s for s in sessions if s.is_finished]
    current = next((s for s in sessions if not s.is_finished), None) or (
        finished[0] if finished else None
    )
    if current is None:
        return LabelingStatus(picked=0, total=0, finished=False, sessions_finished=0)
    return LabelingStatus(
        picked=current.n_picks,
        total=current.n_pairs,
        finished=current.is_finished,
        sessions_finished=len(finished),
    )


# ------------------------------------------------------------------------- profile


@dataclass
class PickRow:
    item: ShownItem
    reward_chosen: float
    reward_rejected: float
    loss: float
    probability: float
    class_share: float | None = None
    class_total: int = 0

    @property
    def margin(self) -> float:
        return self.reward_chosen - self.reward_rejected


@dataclass
class WeightBar:
    trait: Trait
    weight: float
    # Geometry for the server-rendered SVG chart (no inline styles under CSP).
    x: float = 0.0
    width: float = 0.0
    y: float = 0.0


@dataclass
class HeldOutChoice:
    prompt: HeldOutPrompt
    candidates: list[Candidate]
    rewards: list[float]
    best: Candidate
    reference_favourite: Candidate

    @property
    def rows(self) -> list[tuple[Candidate, float]]:
        return list(zip(self.candidates, self.rewards, strict=True))


@dataclass
class Profile:
    state: SessionState
    space: TraitSpace
    model: reward.RewardModel
    tallies: list[reward.TraitTally]
    rows: list[PickRow]
    bars: list[WeightBar]
    heldout: list[HeldOutChoice]
    class_finished: int
    class_shown: bool
    coin_flip_loss: float = reward.COIN_FLIP_LOSS
    chart: dict = field(default_factory=dict)

    @property
    def tally_rows(self) -> list[tuple[Trait, reward.TraitTally]]:
        return list(zip(self.space.traits, self.tallies, strict=True))


def _comparisons(state: SessionState, space: TraitSpace) -> list[reward.Comparison]:
    return [
        reward.Comparison(
            chosen=space.vector(i.chosen.traits), rejected=space.vector(i.rejected.traits)
        )
        for i in state.items
        if i.picked_side
    ]


def reward_model_for(state: SessionState, space: TraitSpace) -> reward.RewardModel:
    return reward.fit_reward_model(_comparisons(state, space), space.slugs)


CHART_WIDTH = 560
CHART_LABEL = 200  # left column for trait names
CHART_CENTRE = CHART_LABEL + (CHART_WIDTH - CHART_LABEL) / 2
CHART_HALF = 170  # pixels for the largest |weight|; bars grow left (negative) or right
CHART_ROW = 36


def weight_bars(model: reward.RewardModel, space: TraitSpace) -> list[WeightBar]:
    weights = model.weights_by_trait()
    top = max((abs(w) for w in weights.values()), default=0.0) or 1.0
    centre = CHART_CENTRE
    bars = []
    for row, trait in enumerate(space.traits):
        w = weights[trait.slug]
        width = abs(w) / top * CHART_HALF
        bars.append(
            WeightBar(
                trait=trait,
                weight=w,
                x=centre if w >= 0 else centre - width,
                width=width,
                y=row * CHART_ROW,
            )
        )
    return bars


def heldout_prompts() -> list[HeldOutPrompt]:
    return list(
        HeldOutPrompt.objects.prefetch_related(
            Prefetch("candidates", queryset=Candidate.objects.order_by("order"))
        )
    )


def heldout_choices(
    model: reward.RewardModel, space: TraitSpace, prompts: Sequence[HeldOutPrompt]
) -> list[HeldOutChoice]:
    choices = []
    for prompt in prompts:
        candidates = list(prompt.candidates.all())
        if not candidates:
            continue
        matrix = np.stack([space.vector(c.traits) for c in candidates])
        ranked = reward.rank_candidates(model, matrix)
        rewards = [0.0] * len(candidates)
        for r in ranked:
            rewards[r.index] = r.reward
        choices.append(
            HeldOutChoice(
                prompt=prompt,
                candidates=candidates,
                rewards=rewards,
                best=candidates[ranked[0].index],
                reference_favourite=max(candidates, key=lambda c: c.ref_prob),
            )
        )
    return choices


def classmates_latest_sessions(
    *, user: AbstractBaseUser, classroom_ids: Sequence[int] | None = None
):
    """Latest finished session of everyone who shares a class with `user` (not `user`).

    The learner's class ids (`classroom_ids`, read here when not given) go in as values:
    inside a subquery PostgreSQL must guess a class's size (the average, skewed by one big
    class) and then scans every session and pick in the database (9 ms with one
    10,000-student class beside a class of 30, growing with the whole database); with
    the ids it plans from the class's own size."""
    if classroom_ids is None:
        classroom_ids = course_selectors.classroom_ids(user_id=user.pk)
    my_classes = list(classroom_ids)
    classmates = (
        Enrollment.objects.filter(classroom_id__in=my_classes)
        .exclude(student=user)
        .values("student_id")
    )
    return LabelingSession.objects.filter(user_id__in=classmates).latest_finished_per_user()


def class_pick_counts(
    *, user: AbstractBaseUser, classroom_ids: Sequence[int] | None = None
) -> tuple[int, dict[tuple[int, str], int]]:
    """How many classmates finished, and how many of them chose each (pair, response).

    One GROUP BY query whatever the class size. A finished session has a pick on
    every one of its pairs, so the number of finished classmates is the largest
    per-pair total. Counts are returned only from CLASS_MIN_FINISHED classmates on.
    """
    rows = (
        Pick.objects.filter(
            session__in=classmates_latest_sessions(user=user, classroom_ids=classroom_ids)
        )
        .values("pair_id", "chosen")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(row["pair_id"], row["chosen"]): row["n"] for row in rows}
    per_pair: dict[int, int] = {}
    for (pair_id, _), n in counts.items():
        per_pair[pair_id] = per_pair.get(pair_id, 0) + n
    finished = max(per_pair.values(), default=0)
    if finished < CLASS_MIN_FINISHED:
        return finished, {}
    return finished, counts


def learner_profile(
    *,
    user: AbstractBaseUser,
    session: LabelingSession,
    classroom_ids: Sequence[int] | None = None,
) -> Profile:
    state = session_state(session=session)
    space = trait_space()
    comparisons = _comparisons(state, space)
    model = reward.fit_reward_model(comparisons, space.slugs)
    tallies = reward.trait_tallies(comparisons, space.slugs, phrases=space.phrases)
    finished, counts = class_pick_counts(user=user, classroom_ids=classroom_ids)
    rows = []
    for item in state.items:
        if not item.picked_side:
            continue
        rc = model.reward(space.vector(item.chosen.traits))
        rr = model.reward(space.vector(item.rejected.traits))
        row = PickRow(
            item=item,
            reward_chosen=rc,
            reward_rejected=rr,
            loss=float(np.logaddexp(0.0, -(rc - rr))),
            probability=float(1 / (1 + np.exp(-(rc - rr)))),
        )
        if counts:
            same = counts.get((item.pair.pk, item.chosen.key), 0)
            other = counts.get((item.pair.pk, item.rejected.key), 0)
            row.class_total = same + other
            row.class_share = same / row.class_total if row.class_total else None
        rows.append(row)
    return Profile(
        state=state,
        space=space,
        model=model,
        tallies=tallies,
        rows=rows,
        bars=weight_bars(model, space),
        heldout=heldout_choices(model, space, heldout_prompts()),
        class_finished=finished,
        class_shown=finished >= CLASS_MIN_FINISHED,
        chart={
            "width": CHART_WIDTH,
            "centre": CHART_CENTRE,
            "height": len(space.traits) * CHART_ROW + 4,
        },
    )


# -------------------------------------------------------------------------- policy

#: The beta control's stops: log-spaced, and including InstructGPT's 0.02 and DPO's 0.1.
BETAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
DEFAULT_BETA_INDEX = 3  # 0.1, DPO's default


POLICY_LABEL = 190  # left column for candidate labels
POLICY_BAR_MAX = 300  # pixels for probability 1
POLICY_ROW = 56
POLICY_WIDTH = POLICY_LABEL + POLICY_BAR_MAX + 60


@dataclass
class PolicyBar:
    candidate: Candidate
    reward: float
    pi_ref: float
    pi_star: float
    implicit_reward: float
    y: float = 0.0

    @property
    def ref_percent(self) -> float:
        return round(self.pi_ref * 100, 1)

    @property
    def star_percent(self) -> float:
        return round(self.pi_star * 100, 1)

    @property
    def ref_width(self) -> float:
        return self.pi_ref * POLICY_BAR_MAX

    @property
    def star_width(self) -> float:
        return self.pi_star * POLICY_BAR_MAX

    @property
    def ref_text_x(self) -> float:
        return POLICY_LABEL + self.ref_width + 6

    @property
    def star_text_x(self) -> float:
        return POLICY_LABEL + self.star_width + 6


@dataclass
class PolicyView:
    prompts: list[HeldOutPrompt]
    prompt: HeldOutPrompt
    beta: float
    beta_index: int
    bars: list[PolicyBar]
    expected_reward: float
    reference_reward: float
    kl: float
    log_z: float
    has_profile: bool
    model: reward.RewardModel
    betas: tuple[float, ...] = BETAS
    chart: dict = field(default_factory=dict)

    @property
    def beta_label(self) -> str:
        return f"{self.beta:g}"

    @property
    def shift(self) -> float:
        """beta * log Z: how far the implicit reward sits below the learner's reward."""
        return self.beta * self.log_z

    @property
    def top(self) -> PolicyBar:
        return max(self.bars, key=lambda bar: bar.pi_star)

    @property
    def betas_json(self) -> str:
        return json.dumps([f"{b:g}" for b in self.betas])


def policy_view(
    *, user: AbstractBaseUser, prompt_slug: str | None, beta_index: int
) -> PolicyView | None:
    """pi* for one held-out prompt at one beta, with the learner's own reward."""
    prompts = heldout_prompts()
    if not prompts:
        return None
    prompt = next((p for p in prompts if p.slug == prompt_slug), prompts[0])
    space = trait_space()
    session = session_latest_finished(user=user)
    if session is not None:
        model = reward_model_for(session_state(session=session), space)
    else:
        model = reward.fit_reward_model([], space.slugs)
    beta = BETAS[beta_index]
    candidates = list(prompt.candidates.all())
    pi_ref = np.array([c.ref_prob for c in candidates])
    pi_ref = pi_ref / pi_ref.sum()  # tolerate admin rounding (validated to 1e-3)
    rewards = model.rewards(np.stack([space.vector(c.traits) for c in candidates]))
    pi_star = reward.optimal_policy(pi_ref, rewards, beta)
    implicit = reward.dpo_implicit_reward(pi_star, pi_ref, beta)
    bars = [
        PolicyBar(
            candidate=c,
            reward=float(rewards[i]),
            pi_ref=float(pi_ref[i]),
            pi_star=float(pi_star[i]),
            implicit_reward=float(implicit[i]),
            y=i * POLICY_ROW,
        )
        for i, c in enumerate(candidates)
    ]
    return PolicyView(
        prompts=prompts,
        prompt=prompt,
        beta=beta,
        beta_index=beta_index,
        bars=bars,
        expected_reward=reward.expected_reward(pi_star, rewards),
        reference_reward=reward.expected_reward(pi_ref, rewards),
        kl=reward.kl_divergence(pi_star, pi_ref),
        log_z=reward.log_partition(pi_ref, rewards, beta),
        has_profile=session is not None,
        model=model,
        chart={
            "width": POLICY_WIDTH,
            "height": len(bars) * POLICY_ROW,
            "label": POLICY_LABEL,
        },
    )


# --------------------------------------------------------------------------- RLAIF


@dataclass
class RlaifRow:
    item: ShownItem
    ai_side: str
    tie: bool

    @property
    def agrees(self) -> bool:
        return self.item.picked_side == self.ai_side

    @property
    def ai_choice(self) -> Response:
        return self.item.response_for_side(self.ai_side)


@dataclass
class RlaifView:
    principles: list[Principle]
    chosen: list[Principle]
    rows: list[RlaifRow]
    agreement: int
    has_session: bool


def rlaif_view(*, user: AbstractBaseUser, principle_slugs: Sequence[str]) -> RlaifView:
    principles = list(Principle.objects.all())
    wanted = set(principle_slugs)
    chosen = [p for p in principles if p.slug in wanted]
    session = session_latest_finished(user=user)
    if session is None or not chosen:
        return RlaifView(principles, chosen, [], 0, session is not None)
    state = session_state(session=session)
    space = trait_space()
    weights = reward.constitution_weights(
        [{k: float(v) for k, v in p.weights.items() if k in space.slugs} for p in chosen],
        space.slugs,
    )
    # The labeler sees the pairs in the order the learner saw them (first = left).
    pairs = [
        reward.ResponsePair(first=space.vector(i.left.traits), second=space.vector(i.right.traits))
        for i in state.items
    ]
    labels = reward.constitution_label(pairs, weights)
    rows = [
        RlaifRow(
            item=item,
            ai_side=ScreenSide.LEFT if label.side is reward.Side.FIRST else ScreenSide.RIGHT,
            tie=label.tie,
        )
        for item, label in zip(state.items, labels, strict=True)
    ]
    agreed = reward.agreement(
        [
            reward.Side.FIRST if i.picked_side == ScreenSide.LEFT else reward.Side.SECOND
            for i in state.items
        ],
        [label.side for label in labels],
    )
    return RlaifView(principles, chosen, rows, agreed, True)


# -------------------------------------------------------------------------- export


def preference_record(prompt: str, chosen: str, rejected: str) -> dict:
    """One pick in TRL's conversational preference format (explicit prompt)."""
    return {
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def preference_records(*, session: LabelingSession) -> list[dict]:
    """The learner's picks in TRL's conversational preference format (explicit prompt)."""
    state = session_state(session=session)
    return [
        preference_record(item.pair.prompt, item.chosen.text, item.rejected.text)
        for item in state.items
        if item.picked_side
    ]


def session_for_export(*, user: AbstractBaseUser) -> LabelingSession | None:
    """The latest finished session, else the open one (its picks so far)."""
    return session_latest_finished(user=user) or session_open(user=user)


# --------------------------------------------------------------------- class view
#
# The instructor's view of a class. Every figure comes from a fixed number of
# queries whatever the class size: one GROUP BY over the class's picks for the
# splits, position bias and agreement; one values_list over the same picks for the
# per-learner fits (numpy, batched); the pairs, traits and held-out prompts.


def class_latest_sessions(*, classroom: Classroom) -> QuerySet[LabelingSession]:
    """Each enrolled student's latest finished session: what counts for the class."""
    students = Enrollment.objects.filter(classroom=classroom).values("student_id")
    return LabelingSession.objects.filter(user_id__in=students).latest_finished_per_user()


def class_picks(*, classroom: Classroom) -> QuerySet[Pick]:
    return Pick.objects.filter(session__in=class_latest_sessions(classroom=classroom))


@dataclass
class PairSummary:
    pair: PreferencePair
    response_a: Response
    response_b: Response
    chose_a: int
    chose_b: int
    chose_left: int

    @property
    def total(self) -> int:
        return self.chose_a + self.chose_b

    @property
    def share_a(self) -> float | None:
        split = agreement.pair_split([self.chose_a, self.chose_b])
        return split[0] if split else None

    @property
    def share_b(self) -> float | None:
        split = agreement.pair_split([self.chose_a, self.chose_b])
        return split[1] if split else None

    @property
    def left(self) -> agreement.Estimate:
        return agreement.position_bias(self.chose_left, self.total)

    @property
    def majority(self) -> str | None:
        if self.chose_a == self.chose_b:
            return None
        return ResponseKey.A if self.chose_a > self.chose_b else ResponseKey.B


#: The per-trait spread charts (SVG user units; scaled by CSS).
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

    trait: Trait
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


@dataclass
class HeldOutSummary:
    prompt: HeldOutPrompt
    candidates: list[Candidate]
    class_rewards: list[float]
    class_best: Candidate
    learner_counts: list[int]
    n_learners: int

    @property
    def rows(self) -> list[tuple[Candidate, float, int, float | None, bool]]:
        """(candidate, class reward, learners whose best-of-n it is, their share, class pick)."""
        return [
            (
                candidate,
                self.class_rewards[i],
                self.learner_counts[i],
                self.learner_counts[i] / self.n_learners if self.n_learners else None,
                candidate.pk == self.class_best.pk,
            )
            for i, candidate in enumerate(self.candidates)
        ]

    @property
    def learners_agreeing(self) -> int:
        index = next(i for i, c in enumerate(self.candidates) if c.pk == self.class_best.pk)
        return self.learner_counts[index]


@dataclass
class Outlier:
    user_id: int
    name: str
    with_majority: int
    pairs: int
    pseudonym: str = ""


@dataclass
class ClassPreferences:
    classroom: Classroom
    space: TraitSpace
    pairs: list[PairSummary]
    learners: int
    left: agreement.Estimate
    pairwise: float | None
    kappa: float | None
    class_model: reward.RewardModel
    spreads: list[TraitSpread]
    heldout: list[HeldOutSummary]
    outliers: list[Outlier]
    spread_chart: dict = field(default_factory=dict)

    @property
    def pairwise_percent(self) -> float | None:
        return None if self.pairwise is None else self.pairwise * 100


def pick_count_table(pairs: Sequence[PairSummary]) -> np.ndarray:
    """Pairs x (chose A, chose B): the items x categories table for Fleiss' kappa."""
    return np.array([[p.chose_a, p.chose_b] for p in pairs], dtype=np.int64).reshape(-1, 2)


def _spread(
    trait: Trait, values: np.ndarray, class_weight: float, low: float, high: float
) -> TraitSpread:
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
    space: TraitSpace, weights: np.ndarray, class_weights: np.ndarray
) -> list[TraitSpread]:
    """One histogram per trait over a shared range (so the charts compare)."""
    everything = np.concatenate([weights.ravel(), class_weights.ravel(), [0.0]])
    low = math.floor(float(everything.min()))
    high = math.ceil(float(everything.max()))
    if high - low < 2:
        low, high = low - 1, high + 1
    return [
        _spread(trait, weights[:, j], float(class_weights[j]), low, high)
        for j, trait in enumerate(space.traits)
    ]


# A learner's picks, packed into one integer in the database: base-3 digit i is 0 (no
# pick on pair i), 1 (chose A) or 2 (chose B). Learners with the same digits have the same
# data and so the same fitted model: a class of 10,000 has at most 3^pairs patterns.
_PATTERN_MAX_PAIRS = 39  # 3^39 < 2^63


def _learner_patterns(
    *, classroom: Classroom, pair_index: dict[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From ONE query of one row per learner: (user ids, sorted; index of each learner's
    pattern; the distinct patterns' (U, P) pick mask; their (U, P) chosen-A flags)."""
    n_pairs = len(pair_index)
    if not pair_index:
        empty = np.zeros((0, 0))
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), empty, empty.astype(bool)
    if n_pairs > _PATTERN_MAX_PAIRS:
        raise ValueError(f"at most {_PATTERN_MAX_PAIRS} pairs fit a pick pattern")
    place = Case(
        *(When(pair_id=pk, then=Value(3**i)) for pk, i in pair_index.items()),
        default=Value(0),
        output_field=BigIntegerField(),
    )
    digit = Case(
        When(chosen=ResponseKey.A, then=Value(1)),
        default=Value(2),
        output_field=BigIntegerField(),
    )
    rows = (
        class_picks(classroom=classroom)
        .order_by()
        .values("session__user_id")
        .annotate(pattern=Sum(place * digit))
        .filter(pattern__gt=0)  # only picks on pairs no longer shown
        .order_by("session__user_id")
        .values_list("session__user_id", "pattern")
    )
    table = np.array(list(rows), dtype=np.int64).reshape(-1, 2)
    user_ids = table[:, 0]
    patterns, inverse = np.unique(table[:, 1], return_inverse=True)
    digits = (patterns[:, None] // (3 ** np.arange(n_pairs, dtype=np.int64))[None, :]) % 3
    return user_ids, inverse.astype(np.int64), (digits > 0).astype(float), digits == 1


def class_preferences(*, classroom: Classroom) -> ClassPreferences:
    """Everything on the class preferences page, in a fixed number of queries."""
    from django.contrib.auth import get_user_model

    from courseware.selectors import pseudonym

    space = trait_space()
    pair_objects = list(
        PreferencePair.objects.prefetch_related(
            Prefetch("responses", queryset=Response.objects.order_by("key"))
        )
    )
    grouped = (
        class_picks(classroom=classroom)
        .values("pair_id", "chosen", "chosen_left")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for row in grouped:
        entry = counts.setdefault(row["pair_id"], {"a": 0, "b": 0, "left": 0})
        entry[row["chosen"]] += row["n"]
        if row["chosen_left"]:
            entry["left"] += row["n"]
    pairs = []
    for pair in pair_objects:
        responses = {r.key: r for r in pair.responses.all()}
        if set(responses) != {ResponseKey.A, ResponseKey.B}:
            continue
        if not pair.is_active and pair.pk not in counts:
            continue
        entry = counts.get(pair.pk, {"a": 0, "b": 0, "left": 0})
        pairs.append(
            PairSummary(
                pair=pair,
                response_a=responses[ResponseKey.A],
                response_b=responses[ResponseKey.B],
                chose_a=entry["a"],
                chose_b=entry["b"],
                chose_left=entry["left"],
            )
        )
    table = pick_count_table(pairs)
    total = int(table.sum())
    left = agreement.position_bias(sum(p.chose_left for p in pairs), total)

    # The class reward model: one Bradley-Terry fit over every pick, from the counts.
    k = len(space.traits)
    differences = np.array(
        [space.vector(p.response_a.traits) - space.vector(p.response_b.traits) for p in pairs]
    ).reshape(len(pairs), k)
    class_rows = np.concatenate([differences, -differences])[None, :, :]
    class_counts = np.concatenate([table[:, 0], table[:, 1]])[None, :]
    class_weights = reward.fit_reward_models(class_rows, class_counts)[0]
    class_model = reward.RewardModel(
        trait_names=tuple(space.slugs),
        weights=class_weights,
        C=reward.DEFAULT_C,
        pick_losses=np.empty(0),
        mean_loss=None,
    )

    # Every learner's own model: one fit per distinct pick pattern, shared by every
    # learner who picked the same way (identical data, identical fit).
    pair_index = {p.pair.pk: i for i, p in enumerate(pairs)}
    user_ids, learner_pattern, pattern_mask, pattern_a = _learner_patterns(
        classroom=classroom, pair_index=pair_index
    )
    # differences[p] is A - B; a learner who chose B has the opposite sign.
    signs = np.where(pattern_a, 1.0, -1.0) * pattern_mask
    pattern_weights = reward.fit_reward_models(
        signs[:, :, None] * differences[None, :, :], pattern_mask
    ).reshape(-1, k)
    learner_weights = pattern_weights[learner_pattern]
    mask, picked_a = pattern_mask[learner_pattern], pattern_a[learner_pattern]

    heldout = []
    for prompt in heldout_prompts():
        candidates = list(prompt.candidates.all())
        if not candidates:
            continue
        matrix = np.stack([space.vector(c.traits) for c in candidates])
        class_rewards = matrix @ class_weights
        best = int(np.argmax(class_rewards))
        if user_ids.size:
            choices = np.argmax(learner_weights @ matrix.T, axis=1)
            learner_counts = np.bincount(choices, minlength=len(candidates)).tolist()
        else:
            learner_counts = [0] * len(candidates)
        heldout.append(
            HeldOutSummary(
                prompt=prompt,
                candidates=candidates,
                class_rewards=[float(r) for r in class_rewards],
                class_best=candidates[best],
                learner_counts=learner_counts,
                n_learners=int(user_ids.size),
            )
        )

    # The labelers furthest from the class majority (a prompt for a conversation).
    outliers = []
    majority = np.array([{ResponseKey.A: 1, ResponseKey.B: 0}.get(p.majority, -1) for p in pairs])
    if user_ids.size:
        decided = (mask > 0) & (majority[None, :] >= 0)
        agrees = (picked_a == (majority[None, :] == 1)) & decided
        with_majority = agrees.sum(axis=1)
        considered = decided.sum(axis=1)
        order = np.lexsort((user_ids, with_majority - considered))[:OUTLIERS_SHOWN]
        order = [i for i in order if considered[i] and with_majority[i] < considered[i]]
        names = dict(
            get_user_model()
            .objects.filter(pk__in=[int(user_ids[i]) for i in order])
            .values_list("pk", "username")
        )
        outliers = [
            Outlier(
                user_id=int(user_ids[i]),
                name=names.get(int(user_ids[i]), ""),
                with_majority=int(with_majority[i]),
                pairs=int(considered[i]),
            )
            for i in order
        ]
    for outlier in outliers:
        outlier.pseudonym = pseudonym(classroom_id=classroom.pk, user_id=outlier.user_id)

    return ClassPreferences(
        classroom=classroom,
        space=space,
        pairs=pairs,
        learners=int(user_ids.size),
        left=left,
        pairwise=agreement.pairwise_agreement(table),
        kappa=agreement.fleiss_kappa(table),
        class_model=class_model,
        spreads=trait_spreads(space, learner_weights.reshape(-1, k), class_weights),
        heldout=heldout,
        outliers=outliers,
        spread_chart={
            "width": SPREAD_WIDTH,
            "height": SPREAD_HEIGHT,
            "axis": SPREAD_AXIS,
        },
    )


#: How many labelers "furthest from the class majority" the page names.
OUTLIERS_SHOWN = 5


# ------------------------------------------------------------------ class exports


def _pair_texts() -> dict[int, tuple[str, dict[str, str]]]:
    """pair id -> (prompt, {key: response text}): two queries."""
    pairs = PreferencePair.objects.prefetch_related("responses")
    return {p.pk: (p.prompt, {r.key: r.text for r in p.responses.all()}) for p in pairs}


def class_preference_records(*, classroom: Classroom, chunk_size: int = 2000) -> Iterator[dict]:
    """The class's picks as TRL conversational preference records, read in chunks
    from a server-side cursor (a class of 10,000 is never in memory at once)."""
    texts = _pair_texts()
    picks = (
        class_picks(classroom=classroom)
        .order_by("session_id", "pair__order")
        .values_list("pair_id", "chosen")
    )
    for pair_id, chosen in picks.iterator(chunk_size=chunk_size):
        prompt, responses = texts[pair_id]
        rejected = ResponseKey.B if chosen == ResponseKey.A else ResponseKey.A
        yield preference_record(prompt, responses[chosen], responses[rejected])


CLASS_CSV_HEADER = ["student", "pair", "chosen", "shown_left"]


def class_preference_rows(*, classroom: Classroom, chunk_size: int = 2000) -> Iterator[list]:
    """CSV rows: student pseudonym (never the username), pair, chosen, the response
    shown on the left. One query, streamed."""
    from courseware.selectors import pseudonym

    yield CLASS_CSV_HEADER
    picks = (
        class_picks(classroom=classroom)
        .order_by("session__user_id", "pair__order")
        .values_list("session__user_id", "pair__slug", "chosen", "chosen_left")
    )
    names: dict[int, str] = {}
    for user_id, pair_slug, chosen, chosen_left in picks.iterator(chunk_size=chunk_size):
        if user_id not in names:
            names.clear()  # rows come grouped by student: keep one name at a time
            names[user_id] = pseudonym(classroom_id=classroom.pk, user_id=user_id)
        other = ResponseKey.B if chosen == ResponseKey.A else ResponseKey.A
        yield [names[user_id], pair_slug, chosen, chosen if chosen_left else other]
