"""Grading core and item statistics for the quiz.

Pure module: no Django imports. Everything takes plain data (mappings, sequences,
numpy arrays) and returns plain data (dataclasses, floats, lists), so the views can
feed it from whatever the ORM returns and the tests need no database.

Conventions
-----------
* An item (question) score is 1 for correct and 0 for wrong; unanswered is wrong.
* Undefined statistics (no responses, zero variance, ...) are returned as ``None``,
  never as NaN and never by dividing by zero, so templates can show "n/a".
* Per-item statistics take aligned 1-D arrays over the learners who were *shown*
  that item: ``item_scores[k]`` and ``total_scores[k]`` belong to the same attempt.
  If questions are drawn from a bank, filter to the attempts that contained the item
  before calling. ``total_scores`` is the raw attempt score (sum of item scores,
  including this item).
* Where a database aggregate is the natural input, a ``*_from_counts`` variant is
  provided (facility, most-chosen wrong answer, score histogram).
"""

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

QUESTIONS_PER_ATTEMPT = 5
DEFAULT_PASS_MARK = 4

# Conventional thresholds for flagging items in the instructor view.
VERY_HARD_FACILITY = 0.2
VERY_EASY_FACILITY = 0.95
LOW_DISCRIMINATION = 0.2
# Kelley's upper/lower group fraction.
DEFAULT_GROUP_FRACTION = 0.27

FLAG_VERY_HARD = f"very hard (facility < {VERY_HARD_FACILITY:g})"
FLAG_VERY_EASY = f"very easy (facility > {VERY_EASY_FACILITY:g})"
FLAG_NEGATIVE_DISCRIMINATION = (
    "negative discrimination: strong students get it wrong more often — check the key"
)
FLAG_LOW_DISCRIMINATION = f"low discrimination (< {LOW_DISCRIMINATION:g})"


# --------------------------------------------------------------------------- attempts


@dataclass(frozen=True)
class AttemptResult:
    """Outcome of one quiz attempt.

    ``per_question`` maps each question id to whether it was answered correctly, in
    the order of the answer key passed to :func:`score_attempt`.
    """

    score: int
    total: int
    passed: bool
    per_question: dict[Hashable, bool] = field(default_factory=dict)


def score_attempt(
    answers: Mapping[Hashable, Hashable | None],
    correct: Mapping[Hashable, Hashable],
    pass_mark: int,
) -> AttemptResult:
    """Score one attempt.

    ``answers`` maps question id -> chosen choice id, or ``None`` if unanswered; a
    question of the attempt missing from ``answers`` is also unanswered. ``correct``
    maps every question of the attempt to its correct choice id and defines the
    attempt's questions (``total == len(correct)``). The attempt passes when
    ``score >= pass_mark``.

    Raises ``ValueError`` if ``answers`` names a question that is not in ``correct``,
    if the answer key is empty or has a ``None`` key, or if ``pass_mark`` is not in
    ``0..total``.
    """
    if not correct:
        raise ValueError("the answer key is empty: an attempt needs at least one question")
    unknown = [question for question in answers if question not in correct]
    if unknown:
        raise ValueError(f"answers reference unknown question(s): {unknown!r}")
    missing_key = [question for question, key in correct.items() if key is None]
    if missing_key:
        raise ValueError(f"question(s) without a correct choice: {missing_key!r}")
    total = len(correct)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | np.integer):
        raise ValueError(f"pass_mark must be an int, got {pass_mark!r}")
    if not 0 <= pass_mark <= total:
        raise ValueError(f"pass_mark must be between 0 and {total}, got {pass_mark}")

    per_question = {}
    for question, key in correct.items():
        chosen = answers.get(question)
        per_question[question] = chosen is not None and chosen == key
    score = sum(per_question.values())
    return AttemptResult(
        score=score, total=total, passed=score >= pass_mark, per_question=per_question
    )


# --------------------------------------------------------------------- input checking


def _binary_vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 (wrong) and 1 (correct)")
    return array.astype(float)


def _score_vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric")
    array = array.astype(float)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite (no NaN/inf)")
    return array


def _aligned(total_scores: ArrayLike, item_scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    totals = _score_vector(total_scores, "total_scores")
    items = _binary_vector(item_scores, "item_scores")
    if totals.shape != items.shape:
        raise ValueError(
            f"total_scores and item_scores differ in length: {totals.size} != {items.size}"
        )
    return totals, items


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


# -------------------------------------------------------------------------- facility


def facility(item_scores: ArrayLike) -> float | None:
    """Share of learners who got the item right (``None`` if nobody answered it)."""
    items = _binary_vector(item_scores, "item_scores")
    if items.size == 0:
        return None
    return float(items.mean())


def facility_from_counts(correct_count: int, answered_count: int) -> float | None:
    """Facility from aggregates: ``correct_count / answered_count`` (``None`` if 0 answered).

    ``answered_count`` is the number of learners shown the item (unanswered counts as
    wrong, so it belongs in the denominator).
    """
    correct_count = _check_count(correct_count, "correct_count")
    answered_count = _check_count(answered_count, "answered_count")
    if correct_count > answered_count:
        raise ValueError(f"correct_count {correct_count} exceeds answered_count {answered_count}")
    if answered_count == 0:
        return None
    return correct_count / answered_count


# -------------------------------------------------------------------- discrimination


def group_size(n_learners: int, fraction: float = DEFAULT_GROUP_FRACTION) -> int:
    """Size ``k`` of the upper and of the lower group for ``n_learners``.

    ``k = round(fraction * n)`` (halves round up), at least 1 and at most ``n // 2`` so
    the groups never overlap. Returns 0 when ``n < 2``.
    """
    n_learners = _check_count(n_learners, "n_learners")
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    if n_learners < 2:
        return 0
    return min(max(1, math.floor(fraction * n_learners + 0.5)), n_learners // 2)


def _top_group_weights(keys: np.ndarray, k: int) -> np.ndarray:
    """Weights selecting the ``k`` learners with the highest ``keys``.

    Learners strictly above the boundary value get weight 1; learners tied *at* the
    boundary share the remaining slots equally, so the weights always sum to ``k`` and
    the result does not depend on the order of the rows.
    """
    boundary = np.sort(keys)[::-1][k - 1]
    above = keys > boundary
    tied = keys == boundary
    weights = above.astype(float)
    weights[tied] = (k - int(above.sum())) / int(tied.sum())
    return weights


def discrimination_upper_lower(
    total_scores: ArrayLike,
    item_scores: ArrayLike,
    fraction: float = DEFAULT_GROUP_FRACTION,
) -> float | None:
    """Upper-lower discrimination index D = facility(upper) - facility(lower).

    Learners are ranked by ``total_scores``; the upper and lower groups each hold
    ``k = group_size(n, fraction)`` learners (27 % by default, rounded, never
    overlapping). Range -1..1; ``None`` with fewer than two learners.

    Tie handling: learners whose total equals the score at a group boundary share the
    slots left in that group equally (fractional membership). E.g. if two slots remain
    in the lower group and four learners are tied on the boundary score, each counts
    with weight 1/2. The index therefore does not depend on row order (no arbitrary
    tie-breaking), and if everybody has the same total, both groups equal the whole
    class and D = 0.
    """
    totals, items = _aligned(total_scores, item_scores)
    k = group_size(totals.size, fraction)
    if k == 0:
        return None
    upper = _top_group_weights(totals, k) @ items / k
    lower = _top_group_weights(-totals, k) @ items / k
    return float(upper - lower)


def point_biserial(
    total_scores: ArrayLike,
    item_scores: ArrayLike,
    corrected: bool = True,
) -> float | None:
    """Point-biserial correlation between the item and the learners' scores.

    By default this is the *corrected* item-rest correlation: the item is correlated
    with ``total - item`` (the score on the other questions), so the item does not
    correlate with itself — with 5 questions the uncorrected value is badly inflated.
    Pass ``corrected=False`` for the classic item-total correlation.

    Computed as the Pearson correlation (population and sample formulas agree):
    ``r = sum(dx*dy) / sqrt(sum(dx^2) * sum(dy^2))``. Returns ``None`` with fewer than
    two learners or when either variable has zero variance (everybody right / wrong
    on the item, or identical rest scores), where the correlation is undefined.
    """
    totals, items = _aligned(total_scores, item_scores)
    other = totals - items if corrected else totals
    if items.size < 2 or np.ptp(items) == 0 or np.ptp(other) == 0:
        return None
    dx = items - items.mean()
    dy = other - other.mean()
    r = float(dx @ dy / math.sqrt(float(dx @ dx) * float(dy @ dy)))
    return min(1.0, max(-1.0, r))


# ------------------------------------------------------------------------ distractors


def most_chosen_wrong_from_counts(
    choice_counts: Mapping[Hashable, int], correct_id: Hashable
) -> tuple[Hashable, int] | None:
    """Most popular wrong choice from ``{choice_id: times_chosen}`` (a GROUP BY result).

    The correct choice and zero counts are ignored; ``None`` if no wrong choice was
    picked. Ties are broken by the smallest choice id, so the answer is deterministic
    (tied ids must be mutually comparable, e.g. integer primary keys).
    """
    wrong = {}
    for choice_id, count in choice_counts.items():
        count = _check_count(count, f"count for choice {choice_id!r}")
        if choice_id is not None and choice_id != correct_id and count > 0:
            wrong[choice_id] = count
    if not wrong:
        return None
    top = max(wrong.values())
    choice_id = min(choice for choice, count in wrong.items() if count == top)
    return choice_id, top


def most_chosen_wrong(
    chosen_ids: Iterable[Hashable | None], correct_id: Hashable
) -> tuple[Hashable, int] | None:
    """Most popular wrong choice among the chosen ids of one item.

    ``None`` entries (unanswered) are ignored. See
    :func:`most_chosen_wrong_from_counts` for ties and the empty case.
    """
    counts = Counter(choice for choice in chosen_ids if choice is not None)
    return most_chosen_wrong_from_counts(counts, correct_id)


# ----------------------------------------------------------------------------- flags


def flag_item(facility: float | None, discrimination: float | None) -> list[str]:
    """Reasons an item deserves a second look (empty list: nothing to report).

    * facility < 0.2 -> very hard; facility > 0.95 -> very easy;
    * discrimination < 0 -> negative discrimination (often a wrong key);
    * 0 <= discrimination < 0.2 -> low discrimination.

    ``discrimination`` may be the upper-lower D or the (corrected) point-biserial; the
    conventional thresholds are the same. ``None``/NaN inputs are skipped.
    """
    reasons = []
    if facility is not None and not math.isnan(facility):
        if facility < VERY_HARD_FACILITY:
            reasons.append(FLAG_VERY_HARD)
        elif facility > VERY_EASY_FACILITY:
            reasons.append(FLAG_VERY_EASY)
    if discrimination is not None and not math.isnan(discrimination):
        if discrimination < 0:
            reasons.append(FLAG_NEGATIVE_DISCRIMINATION)
        elif discrimination < LOW_DISCRIMINATION:
            reasons.append(FLAG_LOW_DISCRIMINATION)
    return reasons


@dataclass(frozen=True)
class ItemStats:
    """All statistics of one item for the instructor view."""

    n_learners: int
    facility: float | None
    discrimination: float | None  # upper-lower D
    point_biserial: float | None  # corrected item-rest correlation
    most_chosen_wrong: tuple[Hashable, int] | None
    flags: list[str]


def analyse_item(
    total_scores: ArrayLike,
    item_scores: ArrayLike,
    chosen_ids: Iterable[Hashable | None] | None = None,
    correct_id: Hashable | None = None,
    fraction: float = DEFAULT_GROUP_FRACTION,
) -> ItemStats:
    """Convenience bundle of the statistics above for one item.

    Flags use the upper-lower D as the discrimination measure. ``most_chosen_wrong``
    is only computed when both ``chosen_ids`` and ``correct_id`` are given.
    """
    totals, items = _aligned(total_scores, item_scores)
    item_facility = facility(items)
    discrimination = discrimination_upper_lower(totals, items, fraction)
    distractor = (
        most_chosen_wrong(chosen_ids, correct_id)
        if chosen_ids is not None and correct_id is not None
        else None
    )
    return ItemStats(
        n_learners=int(items.size),
        facility=item_facility,
        discrimination=discrimination,
        point_biserial=point_biserial(totals, items),
        most_chosen_wrong=distractor,
        flags=flag_item(item_facility, discrimination),
    )


# -------------------------------------------------------------------------- histogram


def score_histogram(scores: ArrayLike, total: int = QUESTIONS_PER_ATTEMPT) -> list[int]:
    """Number of attempts per score ``0..total`` (a list of length ``total + 1``).

    Raises ``ValueError`` for non-integer scores or scores outside ``0..total``.
    """
    total = _check_count(total, "total")
    array = np.asarray(scores)
    if array.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        return [0] * (total + 1)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_):
        raise ValueError("scores must be integers")
    if not (np.isfinite(array).all() and (array == np.round(array)).all()):
        raise ValueError("scores must be integers")
    if array.min() < 0 or array.max() > total:
        raise ValueError(f"scores must be between 0 and {total}")
    return np.bincount(array.astype(np.int64), minlength=total + 1).tolist()


def score_histogram_from_counts(
    counts: Mapping[int, int], total: int = QUESTIONS_PER_ATTEMPT
) -> list[int]:
    """Histogram from ``{score: number_of_attempts}`` (a GROUP BY score result).

    Scores with no attempts may be absent; they come out as 0.
    """
    total = _check_count(total, "total")
    histogram = [0] * (total + 1)
    for score, count in counts.items():
        score = _check_count(score, "score")
        if score > total:
            raise ValueError(f"score {score} is above the total {total}")
        histogram[score] += _check_count(count, f"count for score {score}")
    return histogram
