"""The instructor's class preferences page and its exports, on hand-computed data."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Value, When
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courseware import selectors as course_selectors
from courseware.models import Enrollment
from labeling import agreement, class_view, reward
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


def wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """The Wilson score interval, written out (Wilson 1927)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.django_db
def test_all_pairs_position_bias_is_clustered_by_learner(classroom, hand_class):
    """Left picks per learner: s1 2 of 2, s2 1 of 2, s3 1 of 2; p = 4/6. The cluster
    variance is 3/2 * ((2/3)^2 + 2 (1/3)^2) / 36 = 1/36, below the binomial 1/27, so the
    design effect is floored at 1 and the interval is Wilson on 6 picks with Student's
    t on 2 degrees of freedom (4.303) instead of 1.96."""
    left = class_view.class_preferences(classroom=classroom).left
    assert (left.left, left.picks, left.learners) == (4, 6, 3)
    assert left.share == pytest.approx(4 / 6)
    assert left.standard_error == pytest.approx(1 / 6)
    low, high = wilson(4 / 6, 6, 4.302652729911275)
    assert (left.low, left.high) == (pytest.approx(low), pytest.approx(high))


@pytest.mark.django_db
def test_learners_who_always_pick_one_side_widen_the_all_pairs_interval(classroom, two_pairs):
    """Six learners who always pick left and two who always pick right: 12 of 16 picks
    went left. Treating the 16 picks as independent (the old pooled Wilson interval,
    0.51-0.90) overstates the evidence: there are 8 learners, not 16 draws."""
    p1, p2 = two_pairs
    always_left = {p1: ("a", True), p2: ("b", True)}
    always_right = {p1: ("b", False), p2: ("a", False)}
    add_labelers(classroom, [always_left] * 6 + [always_right] * 2)
    left = class_view.class_preferences(classroom=classroom).left
    pooled = agreement.position_bias(12, 16)
    expected = agreement.position_bias_clustered(np.array([2] * 6 + [0] * 2), np.array([2] * 8))
    assert (left.left, left.picks, left.learners) == (12, 16, 8)
    assert left.design_effect == pytest.approx(expected.design_effect)
    assert left.design_effect > 1.9  # every learner's two picks move together
    assert (left.low, left.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert left.low < pooled.low - 0.1 and left.high > pooled.high


@pytest.mark.django_db
def test_agreement_and_bennett_s_by_hand(classroom, hand_class):
    prefs = class_view.class_preferences(classroom=classroom)
    # Pair 1: 1 of 3 rater pairs agree; pair 2: 3 of 3. Mean 2/3.
    assert prefs.pairwise == pytest.approx(2 / 3)
    # Bennett's S with chance 1/2: 2 * 2/3 - 1 = 1/3 (Fleiss' kappa would give 1/4).
    assert prefs.chance_corrected == pytest.approx(1 / 3)


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
    assert prefs.chance_corrected is None and prefs.pairwise is None and prefs.left.share is None


@pytest.mark.django_db
def test_page_shows_figures_and_instructgpt_reference(instructor_client, classroom, hand_class):
    text = instructor_client.get(page_url(classroom)).text
    assert 'id="pairwise-agreement">66.7%' in text
    assert 'id="bennett-s">0.33' in text
    assert 'id="fleiss-kappa"' not in text
    assert "learner-clustered" in text
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


# -- naming invariance: which response the content calls "A" must not matter -----------


def swap_names(pair) -> None:
    """Rename a pair's responses in the database: A's text and traits become B's and
    back, every pick's chosen key flips and so does every record of which key was shown
    left. Nothing anybody saw or picked changes, only the names."""
    from courseware import content as course_content
    from labeling.models import Response, SessionPair

    responses = {r.key: r for r in Response.objects.filter(pair=pair)}
    a, b = responses["a"], responses["b"]
    (a.text, a.traits), (b.text, b.traits) = (b.text, b.traits), (a.text, a.traits)
    Response.objects.bulk_update([a, b], ["text", "traits"])
    flip = Case(When(chosen="a", then=Value("b")), default=Value("a"))
    Pick.objects.filter(pair=pair).update(chosen=flip)
    flip_left = Case(When(left="a", then=Value("b")), default=Value("a"))
    SessionPair.objects.filter(pair=pair).update(left=flip_left)
    course_content.bump()


SPLIT_ROW = re.compile(
    r'<tr>\s*<th scope="row">(?P<pair>[^<]*)</th>\s*<td class="num">(?P<a>\d+)</td>\s*'
    r'<td class="num">(?P<b>\d+)</td>\s*<td class="nowrap">(?P<split>[^<]*)</td>\s*'
    r'<td class="num">(?P<left>[^<]*)</td>\s*</tr>'
)


def split_rows(html: str) -> dict[str, tuple]:
    """Each pair's row of the split table: the two counts as a set (they trade places
    when the names swap), the split as a set, and the left share."""
    rows = {}
    for m in SPLIT_ROW.finditer(html):
        shares = tuple(sorted(part.split(" ")[-1] for part in m["split"].split(" · ")))
        rows[m["pair"]] = (tuple(sorted((m["a"], m["b"]))), shares, m["left"])
    return rows


def without_names(html: str) -> str:
    """The page with the parts that show the names themselves taken out: the split
    table's rows (compared by split_rows) and the list of each pair's A and B texts."""
    html = SPLIT_ROW.sub("", html)
    html = re.sub(r'<dl class="pair-texts">.*?</dl>', "", html, flags=re.S)
    # CSRF tokens are masked afresh on every response.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


@pytest.mark.django_db
def test_every_figure_on_the_class_page_is_the_same_however_the_responses_are_named(
    instructor_client, classroom, content
):
    """The favourite of most pairs is named A and one pair is split; then three pairs
    have A and B swapped in the database. Fleiss' kappa moved with such a renaming; no
    figure on the page may."""
    import random

    pairs = list(PreferencePair.objects.filter(is_active=True).order_by("order"))
    rng = random.Random(12)
    class_picks = []
    for _ in range(30):
        picks = {}
        for i, pair in enumerate(pairs):
            favourite = 0.5 if i == 0 else 0.85
            chosen = "a" if rng.random() < favourite else "b"
            picks[pair] = (chosen, rng.random() < 0.6)
        class_picks.append(picks)
    add_labelers(classroom, class_picks)
    url = page_url(classroom)
    before = instructor_client.get(url).text
    prefs_before = instructor_client.get(url).context["prefs"]
    for pair in pairs[1::2]:
        swap_names(pair)
    after_response = instructor_client.get(url)
    after, prefs_after = after_response.text, after_response.context["prefs"]

    assert 'id="bennett-s">' in before and 'id="pairwise-agreement">' in before
    assert len(split_rows(before)) == len(pairs)
    assert split_rows(after) == split_rows(before)
    assert without_names(after) == without_names(before)
    # The renaming really happened: the A counts of the swapped pairs moved.
    assert [p.chose_a for p in prefs_after.pairs] != [p.chose_a for p in prefs_before.pairs]
    # ... and it is exactly the renaming that moves Fleiss' kappa.
    kappa = [agreement.fleiss_kappa(class_view.pick_count_table(p.pairs))
             for p in (prefs_before, prefs_after)]  # fmt: skip
    assert abs(kappa[0] - kappa[1]) > 0.05
