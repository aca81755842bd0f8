"""The over-optimisation lab page: the gold it uses, the quick picks, the controls, bad
input, htmx partials and bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling import catalog
from labs import gold
from labs.models import HeldoutPick

from .conftest import HX, url


def pick_pairs(client, count: int, *, first_wins: bool = True) -> list[gold.HeldoutPair]:
    pairs = gold.offered_pairs(catalog.heldout_prompts())[:count]
    for pair in pairs:
        winner = pair.first if first_wins else pair.second
        response = client.post(
            url("overoptimisation-pick"),
            {"first": pair.first.pk, "second": pair.second.pk, "winner": winner.pk},
        )
        assert response.status_code == 302
    return pairs


@pytest.mark.django_db
def test_without_a_finished_session_the_page_sends_the_learner_to_label(student_client, content):
    response = student_client.get(url("overoptimisation"))
    assert response.status_code == 200
    assert "Label six pairs" in response.text
    assert "<svg" not in response.text


@pytest.mark.django_db
def test_a_small_class_asks_for_quick_picks_before_drawing(student_client, finished_session):
    response = student_client.get(url("overoptimisation"))
    assert "There is no gold yet" in response.text
    assert "0 of 12 pairs picked" in response.text
    assert 'name="winner"' in response.text
    assert 'id="sweep-result"' not in response.text


@pytest.mark.django_db
def test_quick_picks_are_stored_once_and_become_the_gold(student_client, student, finished_session):
    pairs = pick_pairs(student_client, 6)
    # The same pick again (a double submit) and a change of mind leave one row per pair.
    pick_pairs(student_client, 1, first_wins=False)
    assert HeldoutPick.objects.filter(user=student).count() == 6
    changed = HeldoutPick.objects.get(user=student, first=pairs[0].first)
    assert changed.first_won is False
    response = student_client.get(url("overoptimisation"))
    assert "your own held-out picks" in response.text
    assert 'id="sweep-result"' in response.text and 'id="bon-result"' in response.text
    assert response.text.count("<svg") == 3
    assert response.text.count('class="data-table"') == 2
    assert "arXiv 2210.10760" in response.text and "arXiv 2009.01325" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"first": "1", "second": "2", "winner": "x"},
        {"first": "", "second": "2", "winner": "2"},
        {"first": "999999", "second": "999998", "winner": "999999"},
    ],
)
def test_bad_quick_picks_are_a_400_and_write_nothing(student_client, finished_session, data):
    response = student_client.post(url("overoptimisation-pick"), data)
    assert response.status_code == 400
    assert not HeldoutPick.objects.exists()


@pytest.mark.django_db
def test_a_winner_outside_the_pair_is_refused(student_client, finished_session):
    pairs = gold.offered_pairs(catalog.heldout_prompts())
    other = pairs[1].first if pairs[1].first.pk not in pairs[0].key else pairs[1].second
    response = student_client.post(
        url("overoptimisation-pick"),
        {"first": pairs[0].first.pk, "second": pairs[0].second.pk, "winner": other.pk},
        headers=HX,
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert not HeldoutPick.objects.exists()


@pytest.mark.django_db
def test_get_is_not_allowed_on_the_pick_endpoint(student_client, finished_session):
    assert student_client.get(url("overoptimisation-pick")).status_code == 405


@pytest.mark.django_db
def test_five_published_classmates_make_the_class_model_the_gold(
    student_client, finished_session, make_classmates
):
    # The class tally is published in steps of five finished labelers (issue 13): with
    # nine classmates and the learner the last one counted ten, nine of them classmates.
    make_classmates(9)
    response = student_client.get(url("overoptimisation") + "?beta=2&n=8")
    assert response.status_code == 200
    assert "your class's reward model" in response.text
    assert "9 classmates have finished" in response.text
    assert 'name="winner"' not in response.text  # no quick picks needed
    assert "At your β = <strong>0.05</strong>" in response.text
    assert "With n = <strong>8</strong>" in response.text


@pytest.mark.django_db
def test_four_classmates_are_not_enough_for_a_class_gold(
    student_client, finished_session, make_classmates
):
    make_classmates(4)
    response = student_client.get(url("overoptimisation"))
    assert "4 classmates have finished" in response.text
    assert "There is no gold yet" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trigger", "shown", "not_shown"),
    [("beta", "sweep-result", "bon-result"), ("n", "bon-result", "sweep-result")],
)
def test_htmx_redraws_only_the_chart_whose_control_moved(
    student_client, finished_session, make_classmates, trigger, shown, not_shown
):
    make_classmates(9)
    response = student_client.get(
        url("overoptimisation") + "?beta=3&n=5", headers={**HX, "HX-Trigger-Name": trigger}
    )
    assert response.status_code == 200
    assert f'id="{shown}"' in response.text
    assert f'id="{not_shown}"' not in response.text
    assert "<main" not in response.text
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?beta=10", "?beta=-1", "?beta=x", "?n=0", "?n=65", "?n=1.5"])
def test_bad_controls_are_a_400(student_client, finished_session, query):
    response = student_client.get(url("overoptimisation") + query)
    assert response.status_code == 400
    assert "Back to the lab" in response.text
    hx = student_client.get(url("overoptimisation") + query, headers=HX)
    assert hx.status_code == 400
    assert hx["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_moving_the_controls_writes_nothing(student_client, student, finished_session):
    from courseware.models import SectionProgress

    student_client.get(url("overoptimisation"))
    progress = list(SectionProgress.objects.filter(user=student).values())
    with CaptureQueriesContext(connection) as queries:
        student_client.get(url("overoptimisation") + "?beta=1&n=3")
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert list(SectionProgress.objects.filter(user=student).values()) == progress


@pytest.mark.django_db
def test_the_page_queries_do_not_grow_with_the_class_or_the_picks(
    student_client, finished_session, make_classmates, django_assert_num_queries
):
    student_client.get(url("overoptimisation"))  # the first view records the visit
    with CaptureQueriesContext(connection) as small:
        student_client.get(url("overoptimisation"))
    count = len(small.captured_queries)  # read now: the connection keeps a bounded log
    pick_pairs(student_client, 12)
    make_classmates(9)
    with django_assert_num_queries(count):
        response = student_client.get(url("overoptimisation") + "?beta=0&n=64")
    assert "your class's reward model" in response.text
    assert count <= 8


@pytest.mark.django_db
def test_an_htmx_request_before_any_gold_answers_without_a_chart(student_client, content):
    response = student_client.get(
        url("overoptimisation") + "?beta=2", headers={**HX, "HX-Trigger-Name": "beta"}
    )
    assert response.status_code == 200
    assert "<svg" not in response.text


@pytest.mark.django_db
def test_the_tables_hold_every_point_of_the_charts(
    student_client, finished_session, make_classmates
):
    make_classmates(9)
    text = student_client.get(url("overoptimisation")).text
    sweep = text[
        text.index('id="sweep-caption"') : text.index("</table>", text.index("sweep-caption"))
    ]
    bon = text[text.index('id="bon-caption"') : text.index("</table>", text.index("bon-caption"))]
    assert sweep.count('<th scope="row"') == 50  # the reference (β = ∞) and 49 betas
    assert bon.count('<th scope="row"') == 64
    assert '<th scope="row" class="num">∞</th><td class="num">0.000</td>' in sweep
