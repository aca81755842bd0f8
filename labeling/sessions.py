"""Reads for the labeling session: the learner's sessions, the pairs as shown, picks."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, OuterRef, Subquery
from django.shortcuts import get_object_or_404

from . import catalog
from .models import LabelingSession, Pick, Response, ScreenSide, SessionPair


def session_for_user(*, user: AbstractBaseUser, pk: int) -> LabelingSession:
    """A learner's own session; anyone else's is a 404, so ids reveal nothing."""
    return get_object_or_404(LabelingSession, pk=pk, user=user)


@dataclass
class ShownItem:
    """One pair of a session as this learner sees it."""

    position: int
    pair_id: int
    left: Response
    right: Response
    picked_side: str | None = None

    @property
    def pair(self):
        return self.left.pair

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


def shown_items(rows) -> list[ShownItem]:
    """(pair id, position, left key, picked left or None) rows as shown items; a pair
    removed from the content since is skipped."""
    pairs = catalog.pairs()
    items = []
    for pair_id, position, left, chosen_left in rows:
        content = pairs.get(pair_id)
        if content is None or not content.complete:
            continue
        right = "b" if left == "a" else "a"
        item = ShownItem(
            position=position,
            pair_id=pair_id,
            left=content.responses[left],
            right=content.responses[right],
        )
        if chosen_left is not None:
            item.picked_side = ScreenSide.LEFT if chosen_left else ScreenSide.RIGHT
        items.append(item)
    return items


def _rows(sessions):
    """A session's pairs with the current pick on each, in order, as value rows."""
    pick = Pick.objects.filter(session=OuterRef("session_id"), pair=OuterRef("pair_id"))
    return (
        SessionPair.objects.filter(session__in=sessions)
        .annotate(chosen_left=Subquery(pick.values("chosen_left")[:1]))
        .order_by("position")
    )


def session_state(*, session: LabelingSession) -> SessionState:
    """The session's pairs in order with both responses and the current picks: 1 query."""
    rows = _rows([session.pk]).values_list("pair_id", "position", "left", "chosen_left")
    return SessionState(session=session, items=shown_items(rows))


def session_latest(*, user: AbstractBaseUser) -> SessionState | None:
    """The learner's open session, else their latest finished one, with its items: one
    query (each shown pair comes with its session row)."""
    latest = (
        LabelingSession.objects.filter(user=user)
        .order_by(F("finished_at").desc(nulls_first=True), "-started_at")
        .values("pk")[:1]
    )
    shown = list(_rows(Subquery(latest)).select_related("session"))
    if not shown:
        return None
    rows = [(s.pair_id, s.position, s.left, s.chosen_left) for s in shown]
    return SessionState(session=shown[0].session, items=shown_items(rows))


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
