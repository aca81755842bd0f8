"""Sessions and picks against the database: constraints, idempotence, races, bad input."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from courseware.models import SectionProgress
from labeling import services
from labeling.models import LabelingSession, Pick, PreferencePair, ScreenSide, SessionPair

from .conftest import pick_all


@pytest.mark.django_db
def test_start_creates_one_session_with_every_pair_and_a_recorded_left_side(content, student):
    session, created = services.session_start(user=student, rng=random.Random(0))
    assert created
    shown = list(session.shown.order_by("position"))
    assert [s.pair.order for s in shown] == [1, 2, 3, 4, 5, 6]
    assert {s.left for s in shown} <= {"a", "b"}


@pytest.mark.django_db
def test_left_side_is_randomised_per_learner(content, make_user):
    layouts = set()
    for i in range(8):
        session, _ = services.session_start(user=make_user(f"u{i}"))
        layouts.add(tuple(session.shown.order_by("position").values_list("left", flat=True)))
    assert len(layouts) > 1


@pytest.mark.django_db
def test_starting_twice_returns_the_open_session(open_session, student):
    again, created = services.session_start(user=student)
    assert again.pk == open_session.pk
    assert not created
    assert LabelingSession.objects.filter(user=student).count() == 1


@pytest.mark.django_db
def test_database_allows_one_open_session_per_user(open_session, student):
    with pytest.raises(IntegrityError), transaction.atomic():
        LabelingSession.objects.create(user=student)


@pytest.mark.django_db
def test_a_new_session_after_finishing_keeps_the_earlier_one(finished_session, student):
    new, created = services.session_start(user=student)
    assert created and new.pk != finished_session.pk
    assert Pick.objects.filter(session=finished_session).count() == 6
    assert LabelingSession.objects.filter(user=student).count() == 2


@pytest.mark.django_db
def test_double_submit_leaves_one_pick(open_session):
    pair = open_session.shown.first().pair
    services.pick_record(session=open_session, pair=pair, side="left")
    services.pick_record(session=open_session, pair=pair, side="left")
    assert Pick.objects.filter(session=open_session, pair=pair).count() == 1


@pytest.mark.django_db
def test_changing_a_pick_updates_the_row_and_maps_sides_to_responses(open_session):
    shown = open_session.shown.first()
    first = services.pick_record(session=open_session, pair=shown.pair, side="left")
    second = services.pick_record(session=open_session, pair=shown.pair, side="right")
    pick = Pick.objects.get(session=open_session, pair=shown.pair)
    assert pick.chosen == shown.right and not pick.chosen_left
    assert first.chosen == shown.left and second.pk == pick.pk


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["", "middle", "LEFT", "a", "1"])
def test_a_bad_side_is_rejected_and_writes_nothing(open_session, side):
    with pytest.raises(services.LabelingError) as exc:
        services.pick_record(session=open_session, pair=open_session.shown.first().pair, side=side)
    assert exc.value.status == 400
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_a_pair_outside_the_session_is_rejected(open_session):
    stray = PreferencePair.objects.create(slug="stray", order=99, prompt="Not in the session")
    with pytest.raises(services.LabelingError, match="not part of your labeling session"):
        services.pick_record(session=open_session, pair=stray, side="left")
    with pytest.raises(services.LabelingError):
        services.pick_record(session=open_session, pair=10**9, side="left")
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_picks_on_a_finished_session_are_refused(finished_session):
    before = list(Pick.objects.values_list("pk", "chosen", "updated_at"))
    with pytest.raises(services.LabelingError) as exc:
        services.pick_record(
            session=finished_session, pair=finished_session.shown.first().pair, side="right"
        )
    assert exc.value.status == 409
    assert list(Pick.objects.values_list("pk", "chosen", "updated_at")) == before


@pytest.mark.django_db
def test_finishing_needs_every_pick(open_session):
    shown = open_session.shown.first()
    services.pick_record(session=open_session, pair=shown.pair, side="left")
    with pytest.raises(services.LabelingError, match="5 pairs left"):
        services.session_finish(session=open_session)
    open_session.refresh_from_db()
    assert open_session.finished_at is None


@pytest.mark.django_db
def test_finishing_twice_is_harmless_and_marks_the_section_done(open_session, student, content):
    section = content.sections.get(url_name="labeling:session")
    pick_all(open_session)
    first = services.session_finish(session=open_session, section=section)
    second = services.session_finish(session=open_session, section=section)
    assert first.finished_at == second.finished_at
    assert SectionProgress.objects.get(user=student, section=section).done_at is not None


@pytest.mark.django_db
def test_database_refuses_a_second_pick_on_the_same_pair(open_session):
    shown = open_session.shown.first()
    Pick.objects.create(session=open_session, pair=shown.pair, chosen="a", chosen_left=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pick.objects.create(session=open_session, pair=shown.pair, chosen="b", chosen_left=False)


@pytest.mark.django_db
def test_database_refuses_a_side_that_is_not_a_or_b(open_session):
    shown = open_session.shown.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pick.objects.create(session=open_session, pair=shown.pair, chosen="c", chosen_left=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionPair.objects.filter(pk=shown.pk).update(left="x")


def _run_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome = work()
        except Exception as exc:  # reported below, not swallowed
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_recording_the_same_pick_leave_one_row(content, student):
    session, _ = services.session_start(user=student)
    pair_id = session.shown.first().pair_id
    results = _run_threads(
        50, lambda: services.pick_record(session=session, pair=pair_id, side=ScreenSide.RIGHT)
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Pick.objects.filter(session=session, pair_id=pair_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_starts_end_with_one_open_session(content, student):
    results = _run_threads(10, lambda: services.session_start(user=student)[0].pk)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(set(results)) == 1
    assert LabelingSession.objects.filter(user=student, finished_at__isnull=True).count() == 1
