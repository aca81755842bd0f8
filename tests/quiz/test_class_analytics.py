"""The instructor's quiz analytics for a class: every figure on hand-computed data,
the page, the roster columns, and query counts that do not grow with the class."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courseware.models import Enrollment
from quiz import grading, selectors
from quiz.models import Answer, Attempt, Choice, Question
from tests.conftest import fill_content_caches

pytestmark = pytest.mark.django_db


def add_attempt(user, quiz, number, score, picks):
    """A submitted attempt with `score` and answers {question: choice}."""
    started = timezone.now() - timedelta(minutes=10)
    attempt = Attempt.objects.create(
        user=user,
        quiz=quiz,
        number=number,
        started_at=started,
        submitted_at=started + timedelta(minutes=5),
        duration=timedelta(minutes=5),
        score=score,
        passed=score >= quiz.pass_mark,
    )
    Answer.objects.bulk_create(
        Answer(
            attempt=attempt, question=choice.question, choice=choice, is_correct=choice.is_correct
        )
        for choice in picks
    )
    return attempt


@pytest.fixture
def bank(quiz):
    """Three questions with their right choice and two wrong ones."""
    out = []
    for question in Question.objects.filter(quiz=quiz).order_by("order")[:3]:
        choices = list(Choice.objects.filter(question=question).order_by("order"))
        right = next(c for c in choices if c.is_correct)
        wrong = [c for c in choices if not c.is_correct]
        out.append((question, right, wrong[0], wrong[1]))
    return out


@pytest.fixture
def small_class(quiz, classroom, other_classroom, make_user, bank):
    """Hand-made class (pass mark 4):

    first attempts   score  Q1     Q2     Q3
      s1               5    right  W2a    right
      s2               4    right  W2a    right
      s3               2    W1a    right  right
      s4               1    W1a    right  right
    s3 passes a second attempt (score 4); s5 never attempts; a student of another
    class (score 0, Q1 → W1b) must not count.
    """
    (q1, r1, w1a, w1b), (q2, r2, w2a, _), (q3, r3, _, _) = bank
    students = []
    for name in ("s1", "s2", "s3", "s4", "s5"):
        user = make_user(name)
        Enrollment.objects.create(classroom=classroom, student=user)
        students.append(user)
    s1, s2, s3, s4, _ = students
    add_attempt(s1, quiz, 1, 5, [r1, w2a, r3])
    add_attempt(s2, quiz, 1, 4, [r1, w2a, r3])
    add_attempt(s3, quiz, 1, 2, [w1a, r2, r3])
    add_attempt(s4, quiz, 1, 1, [w1a, r2, r3])
    add_attempt(s3, quiz, 2, 4, [r1, r2, r3])
    outsider = make_user("outsider")
    Enrollment.objects.create(classroom=other_classroom, student=outsider)
    add_attempt(outsider, quiz, 1, 0, [w1b, w2a])
    return students


def by_question(analytics):
    return {item.question.pk: item for item in analytics.items}


def test_pass_rate_counts_students_who_ever_passed(small_class, classroom, quiz):
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    assert (a.enrolled, a.attempted, a.passed) == (5, 4, 3)
    assert a.pass_rate == 0.75
    assert a.pass_rate_enrolled == 0.6
    assert a.attempts_total == 5


def test_histogram_of_first_and_best_scores(small_class, classroom, quiz):
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    rows = {row.score: row for row in a.histogram}
    assert [row.score for row in a.histogram] == [5, 4, 3, 2, 1, 0]
    assert {s: r.first for s, r in rows.items()} == {5: 1, 4: 1, 3: 0, 2: 1, 1: 1, 0: 0}
    assert {s: r.best for s, r in rows.items()} == {5: 1, 4: 2, 3: 0, 2: 0, 1: 1, 0: 0}
    assert rows[4].best_share == 0.5 and rows[2].first_share == 0.25
    assert [s for s, r in rows.items() if r.passing] == [5, 4]


def test_attempts_per_student_includes_those_with_none(small_class, classroom, quiz):
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    assert [(row.attempts, row.students) for row in a.attempts] == [(0, 1), (1, 3), (2, 1)]
    assert a.attempts[1].share == 0.6


def test_item_figures_use_first_attempts_of_this_class_only(small_class, classroom, quiz, bank):
    items = by_question(selectors.class_quiz_analytics(classroom=classroom, quiz=quiz))
    (q1, _, w1a, _), (q2, _, w2a, _), (q3, *_) = bank

    one = items[q1.pk]
    assert one.stats.n_learners == 4  # s3's second attempt and the outsider left out
    assert one.stats.facility == 0.5
    # k = round(0.27 × 4) = 1: top s1 (right) minus bottom s4 (wrong).
    assert one.stats.discrimination == 1.0
    # right = [1,1,0,0], rest = [4,3,2,1]: r = 2 / √5.
    assert math.isclose(one.stats.point_biserial, 2 / math.sqrt(5))
    assert one.wrong_choice == w1a and one.stats.most_chosen_wrong == (w1a.pk, 2)
    assert one.stats.flags == []
    assert dict((c.pk, n) for c, n in one.choices)[w1a.pk] == 2

    two = items[q2.pk]
    assert two.stats.facility == 0.5
    assert two.stats.discrimination == -1.0  # strong students miss it
    # right = [0,0,1,1], rest = [5,4,1,0]: r = −4 / √17.
    assert math.isclose(two.stats.point_biserial, -4 / math.sqrt(17))
    assert two.wrong_choice == w2a
    assert two.stats.flags == [grading.FLAG_NEGATIVE_DISCRIMINATION]

    three = items[q3.pk]
    assert three.stats.facility == 1.0
    assert three.stats.discrimination == 0.0
    assert three.stats.point_biserial is None  # everybody right: undefined
    assert three.wrong_choice is None
    assert three.stats.flags == [grading.FLAG_VERY_EASY, grading.FLAG_LOW_DISCRIMINATION]


def test_questions_nobody_met_show_no_figures_and_no_flags(small_class, classroom, quiz, bank):
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    met = {question.pk for question, *_ in bank}
    unmet = [item for item in a.items if item.question.pk not in met]
    assert len(unmet) == Question.objects.filter(quiz=quiz).count() - 3
    assert all(item.stats.facility is None and item.stats.flags == [] for item in unmet)
    assert [item.question.pk for item in a.flagged] == [bank[1][0].pk, bank[2][0].pk]


def test_an_empty_class_has_no_figures(classroom, quiz):
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    assert (a.enrolled, a.attempted, a.pass_rate, a.attempts) == (0, 0, None, [])
    assert all(row.first == row.best == 0 for row in a.histogram)


def analytics_url(classroom):
    return reverse("quiz:class", kwargs={"pk": classroom.pk})


def test_page_shows_the_figures_and_no_names(instructor_client, small_class, classroom, bank):
    response = instructor_client.get(analytics_url(classroom))
    assert response.status_code == 200
    page = response.text
    assert "75 %" in page and "60 % of the class" in page
    assert "Questions to check (2)" in page
    assert grading.FLAG_NEGATIVE_DISCRIMINATION in page
    assert bank[0][2].text in page  # Q1's most chosen wrong answer
    assert "−1.00" in page and "0.89" in page
    assert ">s1<" not in page and ">outsider<" not in page


def test_class_page_links_to_the_analytics(instructor_client, classroom):
    page = instructor_client.get(reverse("courseware:classroom", kwargs={"pk": classroom.pk}))
    assert analytics_url(classroom) in page.text


def test_roster_shows_best_latest_passed_and_attempts(instructor_client, small_class, classroom):
    page = instructor_client.get(
        reverse("courseware:classroom", kwargs={"pk": classroom.pk}), {"sort": "name"}
    ).text
    for label in ("Best quiz score", "Latest quiz score", "Quiz passed", "Quiz attempts"):
        assert label in page
    # Find the cells by their column's header: other apps add columns before ours.
    head = page[page.index("<thead>") : page.index("</thead>")]
    headers = [h.split("</th>")[0] for h in head.split("<th scope=")[1:]]
    row = page[page.index(">s3<") :]
    row = row[: row.index("</tr>")]
    cells = [c.split(">", 1)[1].split("<")[0].strip() for c in row.split("<td")[1:]]
    value = {}
    for label in ("Best quiz score", "Latest quiz score", "Quiz passed", "Quiz attempts"):
        column = next(i for i, h in enumerate(headers) if label in h)
        value[label] = cells[column - 1]  # the first header is the student's name
    assert value == {
        "Best quiz score": "4",
        "Latest quiz score": "4",
        "Quiz passed": "Yes",
        "Quiz attempts": "2",
    }


def test_gradebook_has_the_quiz_columns(instructor_client, small_class, classroom):
    response = instructor_client.get(reverse("courseware:gradebook", kwargs={"pk": classroom.pk}))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_name = {row["username"]: row for row in rows}
    assert set(by_name) == {"s1", "s2", "s3", "s4", "s5"}
    assert by_name["s3"]["quiz_best"] == "4" and by_name["s3"]["quiz_latest"] == "4"
    assert by_name["s4"]["quiz_best"] == "1" and by_name["s4"]["quiz_passed"] == "False"
    assert by_name["s1"]["quiz_passed"] == "True" and by_name["s3"]["quiz_attempt_count"] == "2"
    assert by_name["s5"]["quiz_best"] == "" and by_name["s5"]["quiz_attempt_count"] == "0"


# ------------------------------------------------------------------------------ scale

# A fixed unusable password: no hashing per user.
PASSWORD_HASH = "!bulk-students-cannot-log-in"


def bulk_class(classroom, quiz, start, count):
    """`count` students, each with one submitted attempt of five answers."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bulk{n:05d}", password=PASSWORD_HASH)
        for n in range(start, start + count)
    )
    Enrollment.objects.bulk_create(Enrollment(classroom=classroom, student=u) for u in users)
    choices = list(Choice.objects.filter(question__quiz=quiz).order_by("question__order", "order"))
    per_question = [choices[i : i + 4] for i in range(0, 20, 4)]  # five questions
    now = timezone.now()
    attempts = Attempt.objects.bulk_create(
        Attempt(
            user=u,
            quiz=quiz,
            number=1,
            started_at=now,
            submitted_at=now,
            duration=timedelta(0),
            score=0,
            passed=False,
        )
        for u in users
    )
    answers, scores = [], []
    for n, attempt in enumerate(attempts):
        picks = [options[(n + q) % 4] for q, options in enumerate(per_question)]
        answers += [
            Answer(attempt=attempt, question_id=c.question_id, choice=c, is_correct=c.is_correct)
            for c in picks
        ]
        attempt.score = sum(c.is_correct for c in picks)
        attempt.passed = attempt.score >= quiz.pass_mark
        scores.append(attempt)
    Answer.objects.bulk_create(answers, batch_size=5000)
    Attempt.objects.bulk_update(scores, ["score", "passed"], batch_size=5000)


def test_pages_cost_the_same_queries_for_3_and_3000_students(
    instructor_client, classroom, quiz, django_assert_num_queries
):
    urls = [
        analytics_url(classroom),
        reverse("courseware:classroom", kwargs={"pk": classroom.pk}),
    ]
    bulk_class(classroom, quiz, 0, 3)
    fill_content_caches()
    small = []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert instructor_client.get(url).status_code == 200
        small.append(len(captured.captured_queries))
    bulk_class(classroom, quiz, 3, 2997)
    for url, expected in zip(urls, small, strict=True):
        with django_assert_num_queries(expected):
            assert instructor_client.get(url).status_code == 200
    a = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz)
    assert a.enrolled == a.attempted == 3000
    assert small[0] == ANALYTICS_PAGE_QUERIES


# session, the user with their role and the content version, classroom = 3, plus the
# four analytics queries: student groups, first-attempt scores, the first attempts'
# answers grouped, choices (the quiz comes from the catalog).
ANALYTICS_PAGE_QUERIES = 7
