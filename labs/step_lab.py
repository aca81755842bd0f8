"""The "step the optimisers" page: its URL state, and what it shows, built from the
learner's stored fit (labeling.fits; nothing is refitted per request) and the pure cores
in labs.optimisers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlencode

import numpy as np

from labeling import catalog, reward
from labeling.fits import LearnerFit, model_at

from . import optimisers as opt
from . import plots
from .urlstate import choice, flag, label, slug, whole_number

STEP_SIZES = (1, 10, 100)
DEFAULT_SEED = 1
#: Rows of the per-step table under each chart (a long run is thinned; ends kept).
TABLE_ROWS = 11
#: A log-scale chart of KL(pi || pi*) bottoms out here (1e-6 nats: indistinguishable).
KL_FLOOR = 1e-6


@dataclass(frozen=True)
class OptimiserState:
    """Everything the page shows is computed from this, and this is the query string."""

    prompt: str
    seed: int = DEFAULT_SEED
    steps: int = 0
    beta: float = opt.PG_DEFAULTS["beta"]
    batch: int = opt.PG_DEFAULTS["batch"]
    lr: float = opt.PG_DEFAULTS["lr"]
    clip: bool = False
    dpo_beta: float = 0.1
    dpo_steps: int = 0
    dpo_prior: bool = True

    def params(self) -> dict[str, str]:
        """The state as the query string writes it (floats as 0.5, booleans as 1/0)."""
        params = {}
        for key, value in asdict(self).items():
            if isinstance(value, bool):
                params[key] = "1" if value else "0"
            elif isinstance(value, float):
                params[key] = label(value)
            else:
                params[key] = str(value)
        return params

    def query(self, **changes) -> str:
        return "?" + urlencode(replace(self, **changes).params())

    def hidden(self, *names: str) -> list[tuple[str, str]]:
        """(name, value) of the given fields, as hidden inputs of a form that changes the
        others: submitting one lab's settings keeps the other lab where it was."""
        params = self.params()
        return [(name, params[name]) for name in names]


def parse_state(params, prompt_slugs: list[str]) -> OptimiserState | None:
    """The page's state from a query string, or LabInputError (a 400) for anything its
    own links and forms could not have produced. None: there are no held-out prompts."""
    if not prompt_slugs:
        return None
    return OptimiserState(
        prompt=slug(params, "prompt", prompt_slugs, what="held-out prompt"),
        seed=whole_number(
            params, "seed", low=0, high=opt.MAX_SEED, default=DEFAULT_SEED, what="seed"
        ),
        steps=whole_number(
            params, "steps", low=0, high=opt.MAX_STEPS, default=0, what="step count"
        ),
        beta=choice(params, "beta", opt.PG_BETAS, default=opt.PG_DEFAULTS["beta"], what="β"),
        batch=int(
            choice(
                params,
                "batch",
                opt.PG_BATCHES,
                default=opt.PG_DEFAULTS["batch"],
                what="batch size k",
            )
        ),
        lr=choice(
            params,
            "lr",
            opt.PG_LEARNING_RATES,
            default=opt.PG_DEFAULTS["lr"],
            what="learning rate",
        ),
        clip=flag(params, "clip", what="PPO clip"),
        dpo_beta=choice(params, "dpo_beta", opt.DPO_BETAS, default=0.1, what="DPO β"),
        dpo_steps=whole_number(
            params, "dpo_steps", low=0, high=opt.MAX_STEPS, default=0, what="DPO step count"
        ),
        dpo_prior=flag(params, "dpo_prior", what="prior", default=True),
    )


@dataclass(frozen=True)
class StepLink:
    text: str
    href: str | None  # None: at the cap, shown but not a link
    id: str


def step_links(base: str, state: OptimiserState, *, field_name: str, prefix: str) -> list[StepLink]:
    current = getattr(state, field_name)
    links = []
    for size in STEP_SIZES:
        target = min(current + size, opt.MAX_STEPS)
        href = None if target == current else base + state.query(**{field_name: target})
        links.append(StepLink(f"Step ×{size}", href, f"{prefix}-step-{size}"))
    return links


def thinned_rows(n_steps: int) -> list[int]:
    if n_steps + 1 <= TABLE_ROWS:
        return list(range(n_steps + 1))
    return sorted({int(round(x)) for x in np.linspace(0, n_steps, TABLE_ROWS)})


# --- policy gradient ---------------------------------------------------------------------


@dataclass
class CandidateRow:
    label: str
    text: str
    reward: float
    pi_ref: float
    pi_now: float
    pi_star: float


@dataclass
class PGView:
    state: OptimiserState
    prompts: list
    prompt: object
    run: opt.PGRun
    candidates: list[CandidateRow]
    rows: list[opt.PGStep]
    kl_chart: plots.LineChart
    bars: list[plots.BarGroup]
    bar_chart: dict
    links: list[StepLink]
    reset: str
    other_seed: str
    last_batch: list[tuple[str, float]]
    carry: list[tuple[str, str]]
    betas: tuple = opt.PG_BETAS
    batches: tuple = opt.PG_BATCHES
    learning_rates: tuple = opt.PG_LEARNING_RATES
    max_steps: int = opt.MAX_STEPS
    epsilon: float = opt.PPO_EPSILON
    epochs: int = opt.PPO_EPOCHS

    @property
    def final(self) -> opt.PGStep:
        return self.run.final

    @property
    def converged(self) -> bool:
        return self.run.final.kl_to_optimum < 1e-3


def pg_view(*, fit_policy: dict, prompts: list, state: OptimiserState, base: str) -> PGView:
    prompt = next(p for p in prompts if p.slug == state.prompt)
    table = fit_policy[str(prompt.pk)]
    settings = opt.PGSettings(beta=state.beta, batch=state.batch, lr=state.lr, clip=state.clip)
    run = opt.policy_gradient_run(
        table["pi_ref"], table["rewards"], settings, seed=state.seed, steps=state.steps
    )
    labels = [c.label for c in prompt.candidate_list]
    final = run.final
    candidates = [
        CandidateRow(
            label=c.label,
            text=c.text,
            reward=float(run.rewards[i]),
            pi_ref=float(run.pi_ref[i]),
            pi_now=float(final.policy[i]),
            pi_star=float(run.optimum[i]),
        )
        for i, c in enumerate(prompt.candidate_list)
    ]
    bars, bar_chart = plots.probability_bars(
        labels, [("ref", run.pi_ref), ("now", final.policy), ("star", run.optimum)]
    )
    kl_chart = plots.line_chart(
        [("kl", "KL(π ‖ π*)", run.kl_to_optimum)],
        x_label="step",
        y_label="KL to π* (nats, log scale)",
        log_floor=KL_FLOOR,
    )
    return PGView(
        state=state,
        prompts=prompts,
        prompt=prompt,
        run=run,
        candidates=candidates,
        rows=[run.step(i) for i in thinned_rows(state.steps)],
        kl_chart=kl_chart,
        bars=bars,
        bar_chart=bar_chart,
        links=step_links(base, state, field_name="steps", prefix="pg"),
        reset=base + state.query(steps=0),
        other_seed=base + state.query(seed=(state.seed + 1) % (opt.MAX_SEED + 1)),
        last_batch=[
            (labels[a], adv) for a, adv in zip(final.answers, final.advantages, strict=True)
        ],
        carry=state.hidden("steps", "dpo_beta", "dpo_steps", "dpo_prior"),
    )


# --- DPO ---------------------------------------------------------------------------------


@dataclass
class PickRow:
    prompt: str
    chosen: str
    rejected: str
    margin: float
    logp_chosen: float
    logp_rejected: float
    displaced: bool
    first_fall: int | None

    @property
    def chosen_percent(self) -> str:
        return f"{math.exp(self.logp_chosen) * 100:.1f}"

    @property
    def rejected_percent(self) -> str:
        return f"{math.exp(self.logp_rejected) * 100:.1f}"


@dataclass
class WeightRow:
    trait: str
    trained: float
    bradley_terry: float


@dataclass
class DPOView:
    state: OptimiserState
    run: opt.DPORun
    picks: list[PickRow]
    weights: list[WeightRow]
    rows: list[opt.DPOStep]
    loss_chart: plots.LineChart
    logp_chart: plots.LineChart
    focus: PickRow
    links: list[StepLink]
    reset: str
    carry: list[tuple[str, str]]
    lam: float = reward.DEFAULT_LAMBDA
    betas: tuple = opt.DPO_BETAS
    ref_share: float = opt.DPO_REF_SHARE
    coin_flip: float = reward.COIN_FLIP_LOSS

    @property
    def ref_percent(self) -> str:
        return f"{self.ref_share * 100:.0f}"

    @property
    def displaced_count(self) -> int:
        return sum(p.displaced for p in self.picks)

    @property
    def largest_gap(self) -> float:
        return max(abs(w.trained - w.bradley_terry) for w in self.weights)


def dpo_view(*, learner: LearnerFit, state: OptimiserState, base: str) -> DPOView | None:
    """None when the learner's finished session has no usable picks (content removed)."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    picked = []
    for item in learner.items:
        content = pairs.get(item.pair_id)
        if item.chosen is None or content is None or not content.complete:
            continue
        picked.append((content, content.responses[item.chosen], content.responses[item.rejected]))
    if not picked:
        return None
    chosen = np.array([space.vector(c.traits) for _, c, _ in picked])
    rejected = np.array([space.vector(r.traits) for _, _, r in picked])
    lam = reward.DEFAULT_LAMBDA if state.dpo_prior else None
    run = opt.dpo_run(
        chosen, rejected, opt.DPOSettings(beta=state.dpo_beta, lam=lam), steps=state.dpo_steps
    )
    falls = run.first_fall()
    final = run.final
    picks = [
        PickRow(
            prompt=content.pair.prompt,
            chosen=c.text,
            rejected=r.text,
            margin=float(final.margins[i]),
            logp_chosen=float(final.logp_chosen[i]),
            logp_rejected=float(final.logp_rejected[i]),
            displaced=run.displaced[i],
            first_fall=falls[i],
        )
        for i, (content, c, r) in enumerate(picked)
    ]
    # The pick whose chosen response fell furthest (or rose least) is the one to watch.
    focus_index = int(np.argmin(final.logp_chosen))
    stored = model_at(learner.fit, reward.DEFAULT_LAMBDA).weights
    weights = [
        WeightRow(trait=t.name, trained=float(final.weights[j]), bradley_terry=float(stored[j]))
        for j, t in enumerate(space.traits)
    ]
    loss_chart = plots.line_chart(
        [
            ("loss", "mean DPO loss", run.losses),
            ("margin", "mean margin", run.margins.mean(axis=1)),
        ],
        x_label="step",
        y_label="nats",
    )
    logp_chart = plots.line_chart(
        [
            ("chosen", "log π(chosen)", run.logp_chosen[:, focus_index]),
            (
                "rejected",
                "log π(rejected)",
                run.logp_rejected[:, focus_index],
            ),
            ("ref", "log π_ref", [run.logp_ref] * (run.n_steps + 1)),
        ],
        x_label="step",
        y_label="log-probability",
    )
    return DPOView(
        state=state,
        run=run,
        picks=picks,
        weights=weights,
        rows=[run.step(i) for i in thinned_rows(state.dpo_steps)],
        loss_chart=loss_chart,
        logp_chart=logp_chart,
        focus=picks[focus_index],
        links=step_links(base, state, field_name="dpo_steps", prefix="dpo"),
        reset=base + state.query(dpo_steps=0),
        carry=state.hidden("prompt", "seed", "steps", "beta", "batch", "lr", "clip", "dpo_steps"),
    )


@dataclass
class OptimiserPage:
    state: OptimiserState | None
    pg: PGView | None
    dpo: DPOView | None
    finished: bool


def optimiser_page(
    *, learner: LearnerFit, state: OptimiserState | None, base: str
) -> OptimiserPage:
    """The page for this learner and state. A learner without a finished labeling session
    gets the page with nothing computed; None state: no held-out prompts exist."""
    prompts = catalog.heldout_prompts()
    if state is None or not learner.finished or learner.fit is None:
        return OptimiserPage(state=state, pg=None, dpo=None, finished=False)
    return OptimiserPage(
        state=state,
        pg=pg_view(fit_policy=learner.fit.policy, prompts=prompts, state=state, base=base),
        dpo=dpo_view(learner=learner, state=state, base=base),
        finished=True,
    )
