"""The RLAIF page: a constitution of chosen principles labels the learner's own pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import catalog, reward
from .fits import LearnerFit
from .models import Principle, Response, ScreenSide
from .sessions import ShownItem, shown_items


@dataclass
class RlaifRow:
    item: ShownItem
    ai_side: str
    tie: bool

    @property
    def agrees(self) -> bool:
        """Whether the learner picked the labeler's side; a tie is no pick at all."""
        return not self.tie and self.item.picked_side == self.ai_side

    @property
    def ai_choice(self) -> Response:
        return self.item.response_for_side(self.ai_side)


@dataclass
class RlaifView:
    principles: list[Principle]
    chosen: list[Principle]
    rows: list[RlaifRow]
    agreement: reward.AgreementCount | None
    has_session: bool


def rlaif_view(*, learner: LearnerFit, principle_slugs: Sequence[str]) -> RlaifView:
    principles = catalog.principles()
    wanted = set(principle_slugs)
    chosen = [p for p in principles if p.slug in wanted]
    if not learner.finished or not chosen:
        return RlaifView(principles, chosen, [], None, learner.finished)
    items = shown_items(
        (i.pair_id, i.position, i.left, None if i.chosen is None else i.chosen == i.left)
        for i in learner.items
    )
    space = catalog.trait_space()
    weights = reward.constitution_weights(
        [{k: float(v) for k, v in p.weights.items() if k in space.slugs} for p in chosen],
        space.slugs,
    )
    # The labeler sees the pairs in the order the learner saw them (first = left).
    pairs = [
        reward.ResponsePair(first=space.vector(i.left.traits), second=space.vector(i.right.traits))
        for i in items
    ]
    labels = reward.constitution_label(pairs, weights)
    rows = [
        RlaifRow(
            item=item,
            ai_side=ScreenSide.LEFT if label.side is reward.Side.FIRST else ScreenSide.RIGHT,
            tie=label.tie,
        )
        for item, label in zip(items, labels, strict=True)
    ]
    agreed = reward.ai_agreement(
        [
            reward.Side.FIRST if i.picked_side == ScreenSide.LEFT else reward.Side.SECOND
            for i in items
        ],
        labels,
    )
    return RlaifView(principles, chosen, rows, agreed, True)
