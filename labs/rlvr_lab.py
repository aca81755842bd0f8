"""The RLVR page: GRPO on checkable tasks (admin-edited content) and a rejection-sampling
round judged by the learner's own reward model (their stored fit; never refitted here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from urllib.parse import urlencode

from courseware.content import content_accessor
from labeling import catalog
from labeling.fits import LearnerFit

from . import optimisers as opt
from . import plots, rlvr
from .step_lab import STEP_SIZES, StepLink, thinned_rows
from .urlstate import choice, label, slug, whole_number

DEFAULT_SEED = 1
DEFAULT_GROUP = 8
DEFAULT_KL = 0.04
DEFAULT_K = 4


@content_accessor
def tasks() -> list[rlvr.Task]:
    """The checkable tasks in order, each with its candidate answers: two queries. A task
    an admin left with fewer than two answers, or with a rule the checker cannot apply,
    is left out rather than breaking the page."""
    from .models import RLVRTask

    found = []
    for row in RLVRTask.objects.prefetch_related("answers"):
        try:
            found.append(row.as_task())
        except (ValueError, KeyError, TypeError):
            continue
    return found


@dataclass(frozen=True)
class RLVRState:
    seed: int = DEFAULT_SEED
    steps: int = 0
    group: int = DEFAULT_GROUP
    kl: float = DEFAULT_KL
    k: int = DEFAULT_K
    prompt: str = ""

    def params(self) -> dict[str, str]:
        return {k: label(v) if isinstance(v, float) else str(v) for k, v in asdict(self).items()}

    def query(self, **changes) -> str:
        return "?" + urlencode(replace(self, **changes).params())

    def hidden(self, *names: str) -> list[tuple[str, str]]:
        """Hidden inputs that keep the other part of the page where it was."""
        params = self.params()
        return [(name, params[name]) for name in names]


def parse_state(params, prompt_slugs: list[str]) -> RLVRState:
    return RLVRState(
        seed=whole_number(
            params, "seed", low=0, high=opt.MAX_SEED, default=DEFAULT_SEED, what="seed"
        ),
        steps=whole_number(
            params, "steps", low=0, high=opt.MAX_STEPS, default=0, what="step count"
        ),
        group=int(
            choice(params, "group", rlvr.GROUP_SIZES, default=DEFAULT_GROUP, what="group size G")
        ),
        kl=choice(params, "kl", rlvr.KL_WEIGHTS, default=DEFAULT_KL, what="KL weight"),
        k=int(choice(params, "k", rlvr.REJECTION_KS, default=DEFAULT_K, what="k")),
        prompt=slug(params, "prompt", prompt_slugs, what="held-out prompt") if prompt_slugs else "",
    )


@dataclass
class AnswerRow:
    label: str
    text: str
    score: int
    pi_ref: float
    pi_now: float


@dataclass
class TaskRow:
    task: rlvr.Task
    start: float
    accuracy: float
    kl: float
    answers: list[AnswerRow]
    group: list[tuple[str, int, float]]  # the last group: (answer label, reward, advantage)
    zero_advantage: bool
    zero_steps: int  # steps so far whose group taught this task nothing


@dataclass
class GRPOView:
    state: RLVRState
    run: rlvr.GRPORun
    tasks: list[TaskRow]
    rows: list[int]
    accuracy_chart: plots.LineChart
    kl_chart: plots.LineChart
    links: list[StepLink]
    reset: str
    other_seed: str
    carry: list[tuple[str, str]]
    groups: tuple = rlvr.GROUP_SIZES
    kl_weights: tuple = rlvr.KL_WEIGHTS
    max_steps: int = opt.MAX_STEPS

    @property
    def accuracy(self) -> float:
        return float(self.run.accuracy[-1])

    @property
    def start_accuracy(self) -> float:
        return float(self.run.accuracy[0])

    @property
    def kl(self) -> float:
        return float(self.run.kl_to_ref[-1])

    @property
    def zero_total(self) -> int:
        return int(self.run.zero_advantage_groups.sum())

    @property
    def groups_total(self) -> int:
        return self.state.steps * len(self.tasks)

    @property
    def table(self) -> list[dict]:
        run = self.run
        return [
            {
                "step": i,
                "accuracy": float(run.accuracy[i]),
                "kl": float(run.kl_to_ref[i]),
                "zero": int(run.zero_advantage_groups[i]),
            }
            for i in self.rows
        ]


def grpo_view(*, task_list: list[rlvr.Task], state: RLVRState, base: str) -> GRPOView:
    run = rlvr.grpo_run(
        task_list, rlvr.GRPOSettings(group=state.group, kl_weight=state.kl), seed=state.seed,
        steps=state.steps,
    )  # fmt: skip
    zero = run.zero_advantage
    rows = []
    for i, task in enumerate(task_list):
        n = len(task.answers)
        now = run.policies[-1, i, :n]
        ref = run.policies[0, i, :n]
        answers = [
            AnswerRow(a.label, a.text, task.scores[j], float(ref[j]), float(now[j]))
            for j, a in enumerate(task.answers)
        ]
        group = []
        if state.steps:
            group = [
                (task.answers[int(a)].label, int(r), float(adv))
                for a, r, adv in zip(
                    run.answers[-1, i], run.rewards[-1, i], run.advantages[-1, i], strict=True
                )
            ]
        rows.append(
            TaskRow(
                task=task,
                start=float(run.accuracies[0, i]),
                accuracy=float(run.accuracies[-1, i]),
                kl=float(run.kls[-1, i]),
                answers=answers,
                group=group,
                zero_advantage=bool(zero[-1, i]),
                zero_steps=int(zero[:, i].sum()),
            )
        )
    n_tasks = len(task_list)
    accuracy_chart = plots.line_chart(
        [
            ("accuracy", "accuracy", run.accuracy),
            ("zero", "share of groups with zero advantage", run.zero_advantage_groups / n_tasks),
        ],
        x_label="step",
        y_label="share",
        y_range=(0.0, 1.0),
    )
    kl_chart = plots.line_chart(
        [("kl", "KL(π ‖ π_ref)", run.kl_to_ref)], x_label="step", y_label="nats"
    )
    links = []
    for size in STEP_SIZES:
        target = min(state.steps + size, opt.MAX_STEPS)
        href = None if target == state.steps else base + state.query(steps=target)
        links.append(StepLink(f"Step ×{size}", href, f"grpo-step-{size}"))
    return GRPOView(
        state=state,
        run=run,
        tasks=rows,
        rows=thinned_rows(state.steps),
        accuracy_chart=accuracy_chart,
        kl_chart=kl_chart,
        links=links,
        reset=base + state.query(steps=0),
        other_seed=base + state.query(seed=(state.seed + 1) % (opt.MAX_SEED + 1)),
        carry=state.hidden("steps", "k", "prompt"),
    )


@dataclass
class RejectionRow:
    label: str
    reward: float
    pi_ref: float
    wins: int
    winners: float
    exact: float
    after: float


@dataclass
class RejectionView:
    prompt: object
    prompts: list
    round: rlvr.RejectionRound
    rows: list[RejectionRow]
    bars: list[plots.BarGroup]
    bar_chart: dict
    carry: list[tuple[str, str]]
    ks: tuple = rlvr.REJECTION_KS
    sft_steps: int = rlvr.SFT_STEPS

    @property
    def best(self) -> RejectionRow:
        return max(self.rows, key=lambda r: r.reward)


def rejection_view(*, fit_policy: dict, prompts: list, state: RLVRState) -> RejectionView:
    """One round on one held-out prompt (the seed is the GRPO lab's: one seed per page)."""
    prompt = next(p for p in prompts if p.slug == state.prompt)
    table = fit_policy[str(prompt.pk)]
    result = rlvr.rejection_sampling(table["pi_ref"], table["rewards"], k=state.k, seed=state.seed)
    labels = [c.label for c in prompt.candidate_list]
    rows = [
        RejectionRow(
            label=labels[i],
            reward=float(result.rewards[i]),
            pi_ref=float(result.pi_ref[i]),
            wins=int(result.wins[i]),
            winners=float(result.winners[i]),
            exact=float(result.exact[i]),
            after=float(result.policy[i]),
        )
        for i in range(len(labels))
    ]
    bars, bar_chart = plots.probability_bars(
        labels, [("ref", result.pi_ref), ("exact", result.exact), ("now", result.policy)]
    )
    return RejectionView(
        prompt=prompt,
        prompts=prompts,
        round=result,
        rows=rows,
        bars=bars,
        bar_chart=bar_chart,
        carry=state.hidden("seed", "steps", "group", "kl"),
    )


@dataclass
class RLVRPage:
    state: RLVRState
    grpo: GRPOView | None
    rejection: RejectionView | None
    finished: bool


def rlvr_page(*, learner: LearnerFit, state: RLVRState, base: str) -> RLVRPage:
    """GRPO needs no labeling; the rejection-sampling round needs the learner's fit."""
    prompts = catalog.heldout_prompts()
    task_list = tasks()
    grpo = grpo_view(task_list=task_list, state=state, base=base) if task_list else None
    rejection = None
    finished = learner.finished and learner.fit is not None
    if finished and prompts:
        rejection = rejection_view(fit_policy=learner.fit.policy, prompts=prompts, state=state)
    return RLVRPage(state=state, grpo=grpo, rejection=rejection, finished=finished)
