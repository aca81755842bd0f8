"""The instructor's over-optimisation picture: own classes only, figures per student,
queries that do not grow with the class."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labs import class_view


def page(classroom) -> str:
    return reverse("labs:class-overoptimisation", kwargs={"pk": classroom.pk})


@pytest.mark.django_db
def test_a_small_class_is_told_the_picture_needs_five(
    instructor_client, classroom, make_classmates
):
    make_classmates(4)
    response = instructor_client.get(page(classroom))
    assert response.status_code == 200
    assert "Not enough labels yet" in response.text
    assert "4 students have finished" in response.text


@pytest.mark.django_db
def test_every_student_gets_a_curve_and_a_row(instructor_client, classroom, make_classmates):
    users = make_classmates(6)
    response = instructor_client.get(page(classroom))
    assert response.status_code == 200
    for user in users:
        assert f">{user.username}<" in response.text
    assert response.text.count('class="line line-thin"') == 6
    picture = class_view.class_overoptimisation(classroom=classroom)
    assert len(picture.learners) == 6
    rank = {"falls": 0, "rise-then-fall": 1, "no-fall": 2}
    keys = [(rank[c.shape], c.peak_sqrt_kl) for c in picture.learners]
    assert keys == sorted(keys)  # soonest trouble first
    for curve in picture.learners:
        assert curve.peak_gold >= curve.last_gold
        assert curve.peak_gold >= 0.0  # the reference point (gain 0) is on every curve
        assert (curve.shape == "no-fall") == (curve.drop <= 1e-3)


@pytest.mark.django_db
def test_hidden_names_show_pseudonyms(instructor_client, classroom, make_classmates):
    users = make_classmates(5)
    session = instructor_client.session
    session["hide_names"] = True
    session.save()
    response = instructor_client.get(page(classroom))
    assert all(f">{u.username}<" not in response.text for u in users)
    assert "Learner-" in response.text


@pytest.mark.django_db
def test_another_instructors_class_is_a_404(client, other_instructor, classroom):
    client.force_login(other_instructor)
    assert client.get(page(classroom)).status_code == 404


@pytest.mark.django_db
def test_a_student_is_refused(student_client, classroom):
    assert student_client.get(page(classroom)).status_code == 403


@pytest.mark.django_db
def test_the_class_page_links_to_the_picture(instructor_client, classroom):
    response = instructor_client.get(reverse("courseware:classroom", kwargs={"pk": classroom.pk}))
    assert page(classroom) in response.text


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_class(
    instructor_client, classroom, make_classmates, django_assert_num_queries
):
    make_classmates(5)
    instructor_client.get(page(classroom))
    with CaptureQueriesContext(connection) as small:
        instructor_client.get(page(classroom))
    count = len(small.captured_queries)
    make_classmates(12, start=5)
    with django_assert_num_queries(count):
        response = instructor_client.get(page(classroom))
    assert response.text.count('class="line line-thin"') == 17


@pytest.mark.django_db
def test_a_big_class_table_comes_in_pages_and_a_bad_page_is_a_404(
    instructor_client, classroom, make_classmates, monkeypatch
):
    monkeypatch.setattr(class_view, "TABLE_PAGE", 4)
    make_classmates(10)
    first = instructor_client.get(page(classroom))
    assert "Students 1–4 of 10." in first.text
    assert first.text.count('<tr><th scope="row">') == 4
    last = instructor_client.get(page(classroom) + "?page=3")
    assert "Students 9–10 of 10." in last.text and 'rel="prev"' in last.text
    for bad in ("4", "0", "x", "²", "9" * 5000):
        assert instructor_client.get(page(classroom), {"page": bad}).status_code == 404
