"""The critique page: Constitutional AI's first, supervised phase, one round at a time.

The learner picks a principle and steps through a round written for the course: a
helpful-only model's first answer, its critique against the principle, its revision.
Content comes from `labeling.catalog` (kept per content version): no queries here.
"""

from __future__ import annotations

from dataclasses import dataclass

from courseware.numbers import parse_int

from . import catalog
from .models import CritiqueExample

#: The steps of a round, in order: the first answer, the critique, the revision.
STEPS = ("the first answer", "the critique", "the revision")


def parse_step(raw: str | None) -> int:
    """How many steps to show, 1..len(STEPS). Anything else (missing, hand-typed, out of
    range) shows the round from its start or, past the end, whole."""
    step = parse_int(raw, max_digits=3)
    return 1 if step is None else min(max(step, 1), len(STEPS))


@dataclass(frozen=True)
class CritiqueView:
    examples: list[CritiqueExample]
    chosen: CritiqueExample | None
    step: int
    error: str = ""

    @property
    def steps(self) -> tuple[str, ...]:
        return STEPS

    @property
    def next_step(self) -> int | None:
        return self.step + 1 if self.chosen and self.step < len(STEPS) else None

    @property
    def next_label(self) -> str:
        return STEPS[self.step] if self.next_step else ""

    @property
    def finished(self) -> bool:
        return self.chosen is not None and self.step == len(STEPS)


def critique_view(*, principle_slug: str | None, step: str | None) -> CritiqueView:
    """The round for the principle named (none named: only the choice). A principle
    with no round is an error the page explains; the choice stays on offer."""
    examples = catalog.critique_examples()
    if not principle_slug:
        return CritiqueView(examples, None, 1)
    chosen = next((e for e in examples if e.principle.slug == principle_slug), None)
    if chosen is None:
        return CritiqueView(
            examples, None, 1, error="That principle has no example here. Choose one below."
        )
    return CritiqueView(examples, chosen, parse_step(step))
