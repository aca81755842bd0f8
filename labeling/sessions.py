"""Reads for the labeling session: the learner's sessions, the pairs as shown, picks."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import OuterRef, Subquery
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


def _tables() -> tuple[str, str, str]:
    """Sessions, shown pairs, picks: the tables the written-out reads below join."""
    return LabelingSession._meta.db_table, SessionPair._meta.db_table, Pick._meta.db_table


def session_latest(*, user: AbstractBaseUser) -> SessionState | None:
    """The learner's open session, else their latest finished one, with its pairs as
    shown and the current picks: one query, written out (the labeling page runs it on
    every view; the ORM's subquery annotations cost more CPU than the query itself)."""
    sessions, shown, picks = _tables()
    sql = (
        "SELECT s.id, s.started_at, s.finished_at, sp.pair_id, sp.position, sp.left,"  # noqa: S608  # nosec B608
        " p.chosen_left"
        f" FROM {sessions} s JOIN {shown} sp ON sp.session_id = s.id"
        f" LEFT JOIN {picks} p ON p.session_id = s.id AND p.pair_id = sp.pair_id"
        f" WHERE s.id = (SELECT l.id FROM {sessions} l WHERE l.user_id = %s"
        " ORDER BY (l.finished_at IS NULL) DESC, l.finished_at DESC, l.started_at DESC"
        " LIMIT 1)"
        " ORDER BY sp.position"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        rows = cursor.fetchall()
    if not rows:
        return None
    session_id, started_at, finished_at = rows[0][:3]
    session = LabelingSession(
        id=session_id, user_id=user.pk, started_at=started_at, finished_at=finished_at
    )
    items = shown_items(
        (pair_id, position, left, None if chosen_left is None else bool(chosen_left))
        for *_, pair_id, position, left, chosen_left in rows
    )
    return SessionState(session=session, items=items)


@dataclass(frozen=True)
class LabelingStatus:
    picked: int
    total: int
    finished: bool
    sessions_finished: int


def labeling_status(*, user: AbstractBaseUser) -> LabelingStatus:
    """For the overview panel: picks in the open session, or in the last finished one,
    and how many sessions were finished: one query."""
    sessions, shown, picks = _tables()
    sql = (
        "SELECT s.finished_at IS NOT NULL,"  # noqa: S608  # nosec B608
        f" (SELECT COUNT(*) FROM {picks} p WHERE p.session_id = s.id),"
        f" (SELECT COUNT(*) FROM {shown} sp WHERE sp.session_id = s.id),"
        f" (SELECT COUNT(*) FROM {sessions} f WHERE f.user_id = s.user_id"
        " AND f.finished_at IS NOT NULL)"
        f" FROM {sessions} s WHERE s.user_id = %s"
        " ORDER BY (s.finished_at IS NULL) DESC, s.finished_at DESC LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        row = cursor.fetchone()
    if row is None:
        return LabelingStatus(picked=0, total=0, finished=False, sessions_finished=0)
    finished, picked, total, sessions_finished = row
    return LabelingStatus(
        picked=picked, total=total, finished=bool(finished), sessions_finished=sessions_finished
    )
