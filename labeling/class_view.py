"""The instructor's view of a class's preferences: splits, position bias, the class
reward model and the spread of individual ones, labeler agreement.

Every figure comes from a fixed number of queries whatever the class size: one GROUP
BY over the class's picks for the splits, position bias and agreement; one GROUP BY
packing each learner's picks into one number for the per-learner fits (numpy, batched,
one fit per distinct pattern); the content from the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Case, Count, Q, QuerySet, Sum, Value, When

from courseware.models import Classroom, Enrollment
from courseware.selectors import pseudonym

from . import agreement, catalog, charts, reward
from .catalog import TraitSpace
from .models import (
    Candidate,
    HeldOutPrompt,
    LabelingSession,
    Pick,
    PreferencePair,
    Response,
    ResponseKey,
)


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
    #: Share of all picks that went left, with a learner-clustered interval: one
    #: learner's picks are not independent draws.
    left: agreement.ClusteredEstimate
    pairwise: float | None
    #: Chance-corrected agreement: Bennett's S, the same however the content names each
    #: pair's responses (see agreement.bennett_s).
    chance_corrected: float | None
    class_model: reward.RewardModel
    spreads: list[charts.TraitSpread]
    heldout: list[HeldOutSummary]
    outliers: list[Outlier]
    spread_chart: dict = field(default_factory=dict)

    @property
    def pairwise_percent(self) -> float | None:
        return None if self.pairwise is None else self.pairwise * 100


def pick_count_table(pairs: Sequence[PairSummary]) -> np.ndarray:
    """Pairs x (chose A, chose B): the items x categories table for the agreement figures."""
    return np.array([[p.chose_a, p.chose_b] for p in pairs], dtype=np.int64).reshape(-1, 2)


_PATTERN_MAX_PAIRS = 39  # 3^39 < 2^63


@dataclass
class LearnerPatterns:
    """One row per learner who picked on a shown pair, by user id."""

    user_ids: np.ndarray
    #: Index of each learner's pattern in `mask`/`picked_a`.
    pattern: np.ndarray
    #: The distinct patterns: (U, P) 1.0 where the pattern has a pick on that pair.
    mask: np.ndarray
    #: The distinct patterns: (U, P) True where that pick chose A.
    picked_a: np.ndarray
    #: Per learner: picks that went to the response shown on the left, and all picks.
    left: np.ndarray
    picks: np.ndarray


def _learner_patterns(*, classroom: Classroom, pair_index: dict[int, int]) -> LearnerPatterns:
    """From ONE query of one row per learner: their pick pattern (packed into one number)
    and how many of their picks went left."""
    n_pairs = len(pair_index)
    if not pair_index:
        empty, none = np.zeros((0, 0)), np.empty(0, dtype=np.int64)
        return LearnerPatterns(none, none, empty, empty.astype(bool), none, none)
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
    shown = Q(pair_id__in=list(pair_index))
    rows = (
        class_picks(classroom=classroom)
        .order_by()
        .values("session__user_id")
        .annotate(
            pattern=Sum(place * digit),
            left=Count("id", filter=shown & Q(chosen_left=True)),
            picks=Count("id", filter=shown),
        )
        .filter(pattern__gt=0)  # only picks on pairs no longer shown
        .order_by("session__user_id")
        .values_list("session__user_id", "pattern", "left", "picks")
    )
    table = np.array(list(rows), dtype=np.int64).reshape(-1, 4)
    patterns, inverse = np.unique(table[:, 1], return_inverse=True)
    digits = (patterns[:, None] // (3 ** np.arange(n_pairs, dtype=np.int64))[None, :]) % 3
    return LearnerPatterns(
        user_ids=table[:, 0],
        pattern=inverse.astype(np.int64),
        mask=(digits > 0).astype(float),
        picked_a=digits == 1,
        left=table[:, 2],
        picks=table[:, 3],
    )


def class_preferences(*, classroom: Classroom) -> ClassPreferences:
    """Everything on the class preferences page, in a fixed number of queries."""
    space = catalog.trait_space()
    pair_objects = [content.pair for content in catalog.pairs().values()]
    responses_of = {pk: content.responses for pk, content in catalog.pairs().items()}
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
        responses = responses_of[pair.pk]
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
        lam=reward.DEFAULT_LAMBDA,
        pick_losses=np.empty(0),
        mean_loss=None,
    )

    # Every learner's own model: one fit per distinct pick pattern, shared by every
    # learner who picked the same way (identical data, identical fit).
    pair_index = {p.pair.pk: i for i, p in enumerate(pairs)}
    found = _learner_patterns(classroom=classroom, pair_index=pair_index)
    user_ids, learner_pattern = found.user_ids, found.pattern
    pattern_mask, pattern_a = found.mask, found.picked_a
    # differences[p] is A - B; a learner who chose B has the opposite sign.
    signs = np.where(pattern_a, 1.0, -1.0) * pattern_mask
    pattern_weights = reward.fit_reward_models(
        signs[:, :, None] * differences[None, :, :], pattern_mask
    ).reshape(-1, k)
    learner_weights = pattern_weights[learner_pattern]
    mask, picked_a = pattern_mask[learner_pattern], pattern_a[learner_pattern]

    heldout = []
    for prompt in catalog.heldout_prompts():
        candidates = prompt.candidate_list
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
        # Learners are the clusters: all of one learner's picks share their habits.
        left=agreement.position_bias_clustered(found.left, found.picks),
        pairwise=agreement.pairwise_agreement(table),
        chance_corrected=agreement.bennett_s(table),
        class_model=class_model,
        spreads=charts.trait_spreads(space.traits, learner_weights.reshape(-1, k), class_weights),
        heldout=heldout,
        outliers=outliers,
        spread_chart=charts.spread_chart(),
    )


#: How many labelers "furthest from the class majority" the page names.
OUTLIERS_SHOWN = 5
