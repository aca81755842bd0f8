"""The profile's "classmates who agreed" column cannot be differenced (issue 13,
finding 7).

The column changed by exactly one learner's picks when one more classmate finished:
comparing the page before and after gave away all six of that learner's picks, while the
page said no one could be singled out. The class tally is now published in steps of five
finished labelers (labeling.services.CLASS_TALLY_STEP) and shown from five classmates.
"""

from __future__ import annotations

import re

import pytest

from labeling import services
from labeling.models import ClassPickTally

from .conftest import url


def class_column(page: str) -> list[str]:
    """The class column's cells, in row order ("67% of 9", "—")."""
    return re.findall(r'<td class="num">(\d+% of \d+|—)</td>\s*</tr>', page)


@pytest.mark.django_db
def test_one_more_classmate_finishing_does_not_change_the_column(
    student_client, finished_session, make_classmates
):
    """The differencing attack itself: the learner reads the column, one more classmate
    finishes, the learner reads it again. On the old code the two differ by exactly the
    new classmate's picks; now they are identical."""
    make_classmates(9)  # ten finished: the tally is published
    before = student_client.get(url("profile")).text
    columns_before = class_column(before)
    assert len(columns_before) == 6  # shown, one cell per pair
    for n in range(9, 13):  # one, two, three, four more: still the same column
        make_classmates(1, start=n)
        assert class_column(student_client.get(url("profile")).text) == columns_before


@pytest.mark.django_db
def test_the_column_changes_only_after_five_more_have_finished(
    student_client, finished_session, make_classmates
):
    """Between two versions at least five learners' picks change together."""
    make_classmates(9)
    first = class_column(student_client.get(url("profile")).text)
    make_classmates(5, start=9)
    second = class_column(student_client.get(url("profile")).text)
    assert all(cell.endswith("of 9") for cell in first if cell != "—")
    assert all(cell.endswith("of 14") for cell in second if cell != "—")
    tally = ClassPickTally.objects.get()
    assert tally.finished == tally.counts["finished"] == 15


@pytest.mark.django_db
def test_the_snapshot_is_not_recounted_between_steps(
    student, finished_session, make_classmates, classroom
):
    make_classmates(4)  # five finished
    published = ClassPickTally.objects.get(classroom=classroom).counts
    make_classmates(3, start=4)  # eight
    tally = ClassPickTally.objects.get(classroom=classroom)
    assert tally.finished == 8
    assert tally.counts == published
    services.class_tally_refresh(classroom_ids=[classroom.pk])  # a roster change: same
    assert ClassPickTally.objects.get(classroom=classroom).counts == published


@pytest.mark.django_db
def test_a_learner_who_finished_after_the_tally_sees_all_of_it(
    client, content, student, classroom, make_classmates
):
    """Five classmates published before the learner finished: all five are classmates."""
    from .conftest import pick_all

    make_classmates(5)
    session, _ = services.session_start(user=student)
    pick_all(session)
    services.session_finish(session=session)
    client.force_login(student)
    page = client.get(url("profile")).text
    assert "5 of your classmates have finished" in page
    assert all(cell.endswith("of 5") for cell in class_column(page) if cell != "—")


@pytest.mark.django_db
def test_the_page_states_the_guarantee(student_client, finished_session, make_classmates):
    make_classmates(9)
    page = student_client.get(url("profile")).text
    assert "updated only each time five more classmates have finished" in page
    assert "no one's picks can be read from the difference" in page


@pytest.mark.django_db
def test_a_class_whose_count_jumps_past_a_multiple_is_published_from_its_earliest_finishers(
    finished_session, make_classmates, classroom
):
    """A bulk import or the demo finishes many at once: with 12 finished the tally shows
    the 10 who finished first, and the learners counted are exactly those ten."""
    from labeling.models import Pick

    users = make_classmates(11)  # with the student: 12 finished
    ClassPickTally.objects.all().delete()
    services.class_tally_refresh(classroom_ids=[classroom.pk])
    tally = ClassPickTally.objects.get()
    assert tally.finished == 12 and tally.counts["finished"] == 10
    earliest = [finished_session.user_id, *(u.pk for u in users[:9])]
    expected = {}
    for pick in Pick.objects.filter(session__user_id__in=earliest):
        key = f"{pick.pair_id}:{pick.chosen}"
        expected[key] = expected.get(key, 0) + 1
    assert tally.counts["picks"] == expected
    # One more finishing (13) changes nothing classmates can see.
    make_classmates(1, start=11)
    assert ClassPickTally.objects.get().counts == tally.counts
