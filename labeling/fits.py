"""A finished session's reward model: derived once from its picks, stored, read back.

`fit_derive` is the pure step (picks and content in, weights out); `fit_store` writes it
when a session finishes; `learner_fit` reads the learner's latest finished session with
its fit in one query, and derives the fit again only when the content it was made from
has changed since (or the session predates stored fits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import catalog, reward
from .models import LabelingSession, Pick, RewardFit, ScreenSide, SessionPair

#: Bump when the way fits are made changes (prior, solver, what is stored): every stored
#: fit is then derived again on its next read.
FIT_VERSION = "2"

#: The policy page's beta control: log-spaced, including InstructGPT's 0.02 and DPO's 0.1.
BETAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def inputs_key() -> str:
    return f"{FIT_VERSION}:{catalog.fit_inputs_key()}"


@dataclass(frozen=True)
class FitItem:
    """One pair of the session as the learner saw and picked it."""

    pair_id: int
    position: int
    left: str  # the response key shown on the left
    chosen: str | None  # the response key picked (None: no pick)

    @property
    def rejected(self) -> str | None:
        if self.chosen is None:
            return None
        return "b" if self.chosen == "a" else "a"

    @property
    def picked_side(self) -> str | None:
        if self.chosen is None:
            return None
        return ScreenSide.LEFT if self.chosen == self.left else ScreenSide.RIGHT

    def as_json(self) -> dict:
        return {"pair": self.pair_id, "position": self.position, "left": self.left,
                "chosen": self.chosen}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> FitItem:
        return cls(data["pair"], data["position"], data["left"], data["chosen"])


def comparisons(items: list[FitItem]) -> list[reward.Comparison]:
    """The picks as chosen/rejected trait vectors, over today's content; pairs that are
    gone or incomplete are left out."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    found = []
    for item in items:
        content = pairs.get(item.pair_id)
        if item.chosen is None or content is None or not content.complete:
            continue
        found.append(
            reward.Comparison(
                chosen=space.vector(content.responses[item.chosen].traits),
                rejected=space.vector(content.responses[item.rejected].traits),
            )
        )
    return found


def _r(value: float) -> float:
    """Six decimals: what the pages print needs far less, and the stored JSON (decoded on
    every view) shrinks by half."""
    return round(float(value), 6)


def fit_derive(items: list[FitItem]) -> tuple[list[list[float]], dict, dict]:
    """Pure over today's content: the Bradley–Terry weights of these picks at every prior
    strength the profile offers (`reward.LAMBDA_STEPS`), and every figure the profile and
    policy pages show, so that they render from the stored row without computing."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    found = comparisons(items)
    models = reward.fit_reward_model_steps(found, space.slugs)
    tallies = reward.trait_tallies(found, space.slugs, phrases=space.phrases)
    picked = [i for i in items if i.chosen and i.pair_id in pairs and pairs[i.pair_id].complete]
    chosen = np.array([space.vector(pairs[i.pair_id].responses[i.chosen].traits) for i in picked])
    rejected = np.array(
        [space.vector(pairs[i.pair_id].responses[i.rejected].traits) for i in picked]
    )
    prompts = catalog.heldout_prompts()
    matrices = [np.stack([space.vector(c.traits) for c in p.candidate_list]) for p in prompts]
    per_lam = []
    for model in models:
        w = model.weights
        per_lam.append(
            {
                "lam": model.lam,
                "picks": [[_r(c @ w), _r(r @ w)] for c, r in zip(chosen, rejected, strict=True)],
                "heldout": [[_r(x) for x in m @ w] for m in matrices],
            }
        )
    default = models[reward.LAMBDA_STEPS.index(reward.DEFAULT_LAMBDA)]
    profile = {
        "picked": [i.pair_id for i in picked],
        "tallies": [[t.differing, t.chose_more] for t in tallies],
        "models": per_lam,
    }
    policy = {
        str(prompt.pk): policy_table(prompt, matrix @ default.weights)
        for prompt, matrix in zip(prompts, matrices, strict=True)
    }
    return [m.weights.tolist() for m in models], profile, policy


def policy_table(prompt, rewards: np.ndarray) -> dict:
    """The exact optimum pi* at every beta of the policy page, for one prompt."""
    pi_ref = np.array([c.ref_prob for c in prompt.candidate_list])
    pi_ref = pi_ref / pi_ref.sum()  # tolerate admin rounding (validated to 1e-3)
    rows = []
    for beta in BETAS:
        pi_star = reward.optimal_policy(pi_ref, rewards, beta)
        rows.append(
            {
                "pi": [_r(x) for x in pi_star],
                "implicit": [_r(x) for x in reward.dpo_implicit_reward(pi_star, pi_ref, beta)],
                "expected": _r(reward.expected_reward(pi_star, rewards)),
                "kl": _r(reward.kl_divergence(pi_star, pi_ref)),
                "log_z": _r(reward.log_partition(pi_ref, rewards, beta)),
            }
        )
    return {
        "rewards": [_r(x) for x in rewards],
        "pi_ref": [_r(x) for x in pi_ref],
        "reference": _r(reward.expected_reward(pi_ref, rewards)),
        "betas": rows,
    }


def session_items(session: LabelingSession) -> list[FitItem]:
    """The session's pairs in order with their picks: one query."""
    rows = (
        SessionPair.objects.filter(session=session)
        .annotate(
            chosen=Subquery(
                Pick.objects.filter(session=session, pair=OuterRef("pair_id")).values("chosen")[:1]
            )
        )
        .order_by("position")
        .values_list("pair_id", "position", "left", "chosen")
    )
    return [FitItem(*row) for row in rows]


def fit_store(*, session: LabelingSession, items: list[FitItem] | None = None) -> RewardFit:
    """Derive and keep the fit of a finished session (an upsert: storing it twice, or
    again after a content change, leaves one row)."""
    items = session_items(session) if items is None else items
    weights, profile, policy = fit_derive(items)
    fit = RewardFit(
        session=session,
        inputs_key=inputs_key(),
        items=[item.as_json() for item in items],
        weights=weights,
        profile=profile,
        policy=policy,
        traits=catalog.trait_space().slugs,
        fitted_at=timezone.now(),
    )
    RewardFit.objects.bulk_create(
        [fit],
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=[
            "inputs_key",
            "items",
            "weights",
            "profile",
            "policy",
            "traits",
            "fitted_at",
        ],
    )
    return fit


@dataclass
class LearnerFit:
    """The learner's latest finished session with its stored fit."""

    session: LabelingSession | None
    items: list[FitItem]
    fit: RewardFit | None
    has_open_session: bool = False
    class_counts: dict | None = None

    @property
    def finished(self) -> bool:
        return self.session is not None

    @property
    def model(self) -> reward.RewardModel | None:
        """The model at the default prior strength (None: no finished session)."""
        return None if self.fit is None else model_at(self.fit, reward.DEFAULT_LAMBDA)


def _learner_fit_sql(figures: str) -> str:
    """One row whatever the learner has done: whether a session is open, the tally of
    their newest class, and their latest finished session left-joined to its fit."""
    from courseware.models import Enrollment

    from .models import ClassPickTally

    sessions, fits = LabelingSession._meta.db_table, RewardFit._meta.db_table
    tallies, enrolments = ClassPickTally._meta.db_table, Enrollment._meta.db_table
    return (
        "SELECT one.has_open, one.class_counts, s.id, s.started_at, s.finished_at,"  # noqa: S608  # nosec B608
        f" f.inputs_key, f.items, f.weights, f.traits, {figures}"
        " FROM (SELECT"
        f" EXISTS (SELECT 1 FROM {sessions} o WHERE o.user_id = %(user)s"
        " AND o.finished_at IS NULL) AS has_open,"
        f" (SELECT t.counts FROM {tallies} t WHERE t.classroom_id = (SELECT e.classroom_id"
        f" FROM {enrolments} e WHERE e.student_id = %(user)s ORDER BY e.joined_at DESC"
        " LIMIT 1)) AS class_counts) one"
        f" LEFT JOIN {sessions} s ON s.id = (SELECT l.id FROM {sessions} l"
        " WHERE l.user_id = %(user)s AND l.finished_at IS NOT NULL"
        " ORDER BY l.finished_at DESC LIMIT 1)"
        f" LEFT JOIN {fits} f ON f.session_id = s.id"
    )


def _json(field: str, value):
    """A JSON column as Python data (psycopg decodes jsonb itself; SQLite gives text)."""
    if value is None:
        return None
    return RewardFit._meta.get_field(field).from_db_value(value, None, connection)


FIGURES = {"profile": "f.profile", "policy": "f.policy", None: "NULL"}


def learner_fit(*, user: AbstractBaseUser, figures: str | None = None) -> LearnerFit:
    """The learner's latest finished session with its stored fit, whether a session is
    open, and the tally of their newest class: one query, written out (every labeling page
    runs it, and the ORM took longer to build it than PostgreSQL to answer it).

    A fit missing (a session finished before fits were stored) or made from other content
    is derived now and stored: a one-off write, never repeated for the same content.
    `figures` names the stored figures the page needs ("profile" or "policy"); only those
    are read."""
    with connection.cursor() as cursor:
        cursor.execute(_learner_fit_sql(FIGURES[figures]), {"user": user.pk})
        row = cursor.fetchone()
    has_open, class_counts, session_id, started_at, finished_at, *stored = row
    if isinstance(class_counts, str):
        class_counts = json.loads(class_counts)
    if session_id is None:
        return LearnerFit(session=None, items=[], fit=None, has_open_session=bool(has_open))
    session = LabelingSession(
        id=session_id, user_id=user.pk, started_at=started_at, finished_at=finished_at
    )
    key, items, weights, traits, stored_figures = stored
    if key is None or key != inputs_key():
        fit = fit_store(session=session)
    else:
        fit = RewardFit(
            session=session,
            inputs_key=key,
            items=_json("items", items),
            weights=_json("weights", weights),
            traits=_json("traits", traits),
            **({figures: _json(figures, stored_figures)} if figures else {}),
        )
    return LearnerFit(
        session=session,
        items=[FitItem.from_json(item) for item in fit.items],
        fit=fit,
        has_open_session=bool(has_open),
        class_counts=class_counts,
    )


def model_at(fit: RewardFit, lam: float) -> reward.RewardModel:
    """The stored model at one prior strength, over today's trait list (a trait added
    since reads as 0; such a fit is derived again on its next read anyway)."""
    space = catalog.trait_space()
    index = reward.LAMBDA_STEPS.index(lam)
    stored = dict(zip(fit.traits, fit.weights[index], strict=True))
    weights = np.array([stored.get(slug, 0.0) for slug in space.slugs])
    return reward.RewardModel(
        trait_names=tuple(space.slugs),
        weights=weights,
        lam=lam,
        pick_losses=np.empty(0),
        mean_loss=None,
    )
