"""The instructor's class preferences page and its exports, on hand-computed data."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courseware import selectors as course_selectors
from courseware.models import Enrollment
from labeling import class_view, reward
from labeling.models import LabelingSession, Pick, PreferencePair

# Bulk users get one fixed, unusable password value: no hashing per user.
PASSWORD_HASH = "!bulk-test-user"


def add_labelers(classroom, picks_per_student, *, prefix="s", start=0):
    """Students with one finished session each; picks_per_student is a list (one per
    student) of {pair: (chosen, chosen_left)}. Everything is bulk-created."""
    now = timezone.now()
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{prefix}{start + i:05d}", password=PASSWORD_HASH)
        for i in range(len(picks_per_student))
    )
    Enrollment.objects.bulk_create(Enrollment(classroom=classroom, student=u) for u in users)
    sessions = LabelingSession.objects.bulk_create(
        LabelingSession(user=u, started_at=now, finished_at=now) for u in users
    )
    Pick.objects.bulk_create(
        Pick(session=session, pair=pair, chosen=chosen, chosen_left=left)
        for session, picks in zip(sessions, picks_per_student, strict=True)
        for pair, (chosen, left) in picks.items()
    )
    return users


@pytest.fixture
def two_pairs(content):
    return list(PreferencePair.objects.order_by("order")[:2])


@pytest.fixture
def hand_class(classroom, two_pairs):
    """Pair 1: s1 A (left), s2 A (right), s3 B (left) -> 2:1, left 2 of 3.
    Pair 2: s1 B (left), s2 B (left), s3 B (right) -> 0:3, left 2 of 3."""
    p1, p2 = two_pairs
    return add_labelers(
        classroom,
        [
            {p1: ("a", True), p2: ("b", True)},
            {p1: ("a", False), p2: ("b", True)},
            {p1: ("b", True), p2: ("b", False)},
        ],
    )


def page_url(classroom, name="class-preferences"):
    return reverse(f"labeling:{name}", kwargs={"pk": classroom.pk})


@pytest.mark.django_db
def test_split_and_position_bias_per_pair(classroom, hand_class, two_pairs):
    prefs = class_view.class_preferences(classroom=classroom)
    summaries = {p.pair.pk: p for p in prefs.pairs}
    first, second = (summaries[p.pk] for p in two_pairs)
    assert (first.chose_a, first.chose_b, first.chose_left) == (2, 1, 2)
    assert first.share_a == pytest.approx(2 / 3)
    assert (second.chose_a, second.chose_b, second.chose_left) == (0, 3, 2)
    assert second.majority == "b"
    assert prefs.learners == 3


@pytest.mark.django_db
def test_class_position_bias_is_left_share_with_wilson_interval(classroom, hand_class):
    left = class_view.class_preferences(classroom=classroom).left
    assert (left.count, left.total) == (4, 6)
    assert left.share == pytest.approx(4 / 6)
    # Wilson, z = 1.96, p = 2/3, n = 6: centre 0.6016, half-width 0.3016 (by hand).
    assert left.low == pytest.approx(0.3000, abs=1e-3)
    assert left.high == pytest.approx(0.9032, abs=1e-3)


@pytest.mark.django_db
def test_agreement_and_kappa_by_hand(classroom, hand_class):
    prefs = class_view.class_preferences(classroom=classroom)
    # Pair 1: 1 of 3 rater pairs agree; pair 2: 3 of 3. Mean 2/3.
    assert prefs.pairwise == pytest.approx(2 / 3)
    # P-bar 2/3; p_A = 1/3, p_B = 2/3 -> P_e = 5/9; kappa = (2/3 - 5/9) / (4/9) = 1/4.
    assert prefs.kappa == pytest.approx(0.25)


@pytest.mark.django_db
def test_class_model_is_one_fit_over_every_pick(classroom, hand_class, two_pairs):
    prefs = class_view.class_preferences(classroom=classroom)
    space = prefs.space
    p1, p2 = ({r.key: space.vector(r.traits) for r in p.responses.all()} for p in two_pairs)
    comparisons = [
        reward.Comparison(chosen=p1["a"], rejected=p1["b"]),
        reward.Comparison(chosen=p1["a"], rejected=p1["b"]),
        reward.Comparison(chosen=p1["b"], rejected=p1["a"]),
        *[reward.Comparison(chosen=p2["b"], rejected=p2["a"])] * 3,
    ]
    expected = reward.fit_reward_model(comparisons, space.slugs).weights
    assert np.abs(prefs.class_model.weights - expected).max() < 1e-6


@pytest.mark.django_db
def test_spread_summarises_each_learners_own_fit(classroom, hand_class, two_pairs):
    prefs = class_view.class_preferences(classroom=classroom)
    space = prefs.space
    p1, p2 = ({r.key: space.vector(r.traits) for r in p.responses.all()} for p in two_pairs)
    own = np.array(
        [
            reward.fit_reward_model(
                [
                    reward.Comparison(chosen=p1[c1], rejected=p1[r1]),
                    reward.Comparison(chosen=p2["b"], rejected=p2["a"]),
                ],
                space.slugs,
            ).weights
            for c1, r1 in (("a", "b"), ("a", "b"), ("b", "a"))
        ]
    )
    for j, spread in enumerate(prefs.spreads):
        assert spread.n == 3
        assert spread.median == pytest.approx(float(np.median(own[:, j])), abs=1e-6)
        assert spread.minimum == pytest.approx(own[:, j].min(), abs=1e-6)
        assert spread.maximum == pytest.approx(own[:, j].max(), abs=1e-6)
        assert sum(bar.count for bar in spread.bars) == 3


@pytest.mark.django_db
def test_heldout_best_of_n_for_class_and_learners(classroom, hand_class):
    prefs = class_view.class_preferences(classroom=classroom)
    weights = prefs.class_model.weights
    assert prefs.heldout
    for summary in prefs.heldout:
        rewards = [prefs.space.vector(c.traits) @ weights for c in summary.candidates]
        assert summary.class_best == summary.candidates[int(np.argmax(rewards))]
        assert sum(summary.learner_counts) == 3


@pytest.mark.django_db
def test_only_each_students_latest_finished_session_counts(
    classroom, hand_class, two_pairs, other_student
):
    p1, _ = two_pairs
    older = timezone.now() - timezone.timedelta(days=1)
    stale = LabelingSession.objects.create(user=hand_class[0], started_at=older, finished_at=older)
    Pick.objects.create(session=stale, pair=p1, chosen="b", chosen_left=False)
    LabelingSession.objects.create(user=hand_class[1])  # open: not counted
    other = LabelingSession.objects.create(
        user=other_student, started_at=older, finished_at=older
    )  # another class: not counted
    Pick.objects.create(session=other, pair=p1, chosen="b", chosen_left=False)
    first = class_view.class_preferences(classroom=classroom).pairs[0]
    assert (first.chose_a, first.chose_b) == (2, 1)


@pytest.mark.django_db
def test_outliers_are_students_against_the_majority(classroom, hand_class):
    outliers = class_view.class_preferences(classroom=classroom).outliers
    assert [(o.name, o.with_majority, o.pairs) for o in outliers] == [
        (hand_class[2].username, 1, 2)
    ]


@pytest.mark.django_db
def test_empty_class_renders_without_figures(instructor_client, classroom, content):
    response = instructor_client.get(page_url(classroom))
    assert response.status_code == 200
    assert "Nobody in this class has finished a labeling session" in response.text
    prefs = response.context["prefs"]
    assert prefs.kappa is None and prefs.pairwise is None and prefs.left.share is None


@pytest.mark.django_db
def test_page_shows_figures_and_instructgpt_reference(instructor_client, classroom, hand_class):
    text = instructor_client.get(page_url(classroom)).text
    assert 'id="pairwise-agreement">66.7%' in text
    assert 'id="fleiss-kappa">0.25' in text
    assert "72.6 ± 1.5%" in text and "arXiv 2203.02155" in text
    assert 'role="img"' in text and "<desc" in text
    assert hand_class[2].username in text


@pytest.mark.django_db
def test_privacy_switch_shows_pseudonyms_instead_of_names(instructor_client, classroom, hand_class):
    url = page_url(classroom)
    instructor_client.post(reverse("courseware:privacy"), {"hide": "1", "next": url})
    text = instructor_client.get(url).text
    assert hand_class[2].username not in text
    assert course_selectors.pseudonym(classroom_id=classroom.pk, user_id=hand_class[2].pk) in text


def assert_trl_conversational_preference(record: dict) -> None:
    """TRL's conversational preference format with an explicit prompt."""
    assert list(record) == ["prompt", "chosen", "rejected"]
    for key, role in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
        messages = record[key]
        assert isinstance(messages, list) and messages
        for message in messages:
            assert set(message) == {"role", "content"}
            assert message["role"] == role
            assert isinstance(message["content"], str) and message["content"]


@pytest.mark.django_db
def test_jsonl_export_streams_trl_records_for_every_pick(
    instructor_client, classroom, hand_class, two_pairs
):
    response = instructor_client.get(page_url(classroom, "class-preferences-jsonl"))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith("attachment;")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 6
    records = [json.loads(line) for line in lines]
    for record in records:
        assert_trl_conversational_preference(record)
    p1, _ = two_pairs
    texts = {r.key: r.text for r in p1.responses.all()}
    first_pair = [r for r in records if r["prompt"][0]["content"] == p1.prompt]
    assert sorted(r["chosen"][0]["content"] for r in first_pair) == sorted(
        [texts["a"], texts["a"], texts["b"]]
    )
    assert all(r["chosen"] != r["rejected"] for r in records)


@pytest.mark.django_db
def test_csv_export_streams_pseudonyms_never_usernames(
    instructor_client, classroom, hand_class, two_pairs
):
    response = instructor_client.get(page_url(classroom, "class-preferences-csv"))
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["student", "pair", "chosen", "shown_left"]
    assert len(rows) == 7
    for user in hand_class:
        assert user.username not in body
    p1, _ = two_pairs
    names = [
        course_selectors.pseudonym(classroom_id=classroom.pk, user_id=u.pk) for u in hand_class
    ]
    first_pair = {row[0]: row[2:] for row in rows[1:] if row[1] == p1.slug}
    # s1 chose A shown left; s2 chose A shown right (so B was left); s3 chose B shown left.
    assert first_pair == {names[0]: ["a", "a"], names[1]: ["a", "b"], names[2]: ["b", "b"]}


def consume(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["class-preferences", "class-preferences-jsonl", "class-preferences-csv"]
)
def test_query_count_is_the_same_for_3_and_3000_students(
    instructor_client, classroom, two_pairs, django_assert_num_queries, name
):
    p1, p2 = two_pairs
    # Each has someone against the majority, so both class sizes name outliers.
    pattern = [
        {p1: ("a", True), p2: ("b", False)},
        {p1: ("a", False), p2: ("b", True)},
        {p1: ("b", True), p2: ("a", True)},
    ]
    add_labelers(classroom, pattern)
    url = page_url(classroom, name)
    consume(instructor_client.get(url))  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        response = instructor_client.get(url)
        consume(response)
    assert response.status_code == 200
    add_labelers(classroom, pattern * 999, start=3)
    with django_assert_num_queries(len(small.captured_queries)):
        response = instructor_client.get(url)
        consume(response)
    if name == "class-preferences":
        assert response.context["prefs"].learners == 3000


@pytest.mark.django_db
def test_roster_columns_show_labeling_progress(instructor_client, classroom, hand_class, student):
    roster = course_selectors.classroom_roster(classroom=classroom)
    by_name = {u.username: u for u in roster}
    assert by_name[hand_class[0].username].labeling_finished is True
    assert by_name[hand_class[0].username].labeling_picks == 2
    assert by_name[student.username].labeling_finished is False
    assert by_name[student.username].labeling_picks == 0


@pytest.mark.django_db
def test_class_page_links_to_preferences_and_exports(instructor_client, classroom, content):
    text = instructor_client.get(reverse("courseware:classroom", kwargs={"pk": classroom.pk})).text
    for name in ("class-preferences", "class-preferences-jsonl", "class-preferences-csv"):
        assert page_url(classroom, name) in text
