"""Labeling pages through the test client: full pages, htmx partials, bad input, queries."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseware.models import SectionProgress
from labeling import demo, services
from labeling.models import LabelingSession, Pick, PreferencePair

from .conftest import KW, pick_all, url

HX = {"HX-Request": "true"}
PASSWORD = "a-long-test-password-42"


def pick_url(session) -> str:
    return url("pick", session=session.pk)


# ------------------------------------------------------------------------ session


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, content):
    response = client.get(url("session"))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.django_db
def test_session_page_explains_the_keyboard_and_offers_a_start(student_client, content):
    response = student_client.get(url("session"))
    assert response.status_code == 200
    assert "Start labeling" in response.text
    assert "<kbd>1</kbd>" in response.text
    assert not LabelingSession.objects.exists()


@pytest.mark.django_db
def test_starting_shows_the_first_pair_with_progress(student_client, student, content):
    response = student_client.post(url("session-new"), follow=True)
    session = LabelingSession.objects.get(user=student)
    first = session.shown.get(position=1)
    left = first.pair.responses.get(key=first.left)
    assert "Pair 1 of 6" in response.text
    assert "0 of 6" in response.text
    # The left column shows the response this learner's recorded order put there.
    assert response.text.index(left.text[:40]) < response.text.index("Right response")
    assert 'aria-keyshortcuts="1 ArrowLeft"' in response.text
    assert "labeling.js" in response.text


@pytest.mark.django_db
def test_a_pick_without_htmx_redirects_to_the_next_pair(student_client, open_session):
    shown = open_session.shown.get(position=1)
    response = student_client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    assert response.status_code == 302
    assert response.url.endswith("?pair=2")
    page = student_client.get(response.url)
    assert "Pair 2 of 6" in page.text and "1 of 6" in page.text


@pytest.mark.django_db
def test_a_pick_with_htmx_returns_the_next_pair_partial(student_client, open_session):
    shown = open_session.shown.get(position=1)
    response = student_client.post(
        pick_url(open_session), {"pair": shown.pair_id, "side": "right"}, headers=HX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="pair-panel"')
    assert "Pair 2 of 6" in response.text
    assert "<html" not in response.text
    assert 'data-announce="Saved your pick on pair 1."' in response.text


@pytest.mark.django_db
def test_replayed_submit_leaves_exactly_one_pick(student_client, open_session):
    shown = open_session.shown.get(position=1)
    for _ in range(3):
        student_client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    assert Pick.objects.filter(session=open_session).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"pair": "PAIR", "side": "left"}, 400, "Choose the left or the right response"),
        ({"pair": "PAIR", "side": "sideways"}, 400, "Choose the left or the right response"),
        ({"pair": "PAIR"}, 400, "Choose the left or the right response"),
        ({"pair": "abc", "side": "left"}, 400, "That pair is not valid"),
        ({"side": "left"}, 400, "That pair is not valid"),
        ({"pair": "999999", "side": "left"}, 400, "not part of your labeling session"),
        ({"pair": "STRAY", "side": "left"}, 400, "not part of your labeling session"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_picks_get_a_readable_4xx_and_write_nothing(
    student_client, open_session, data, status, message, htmx
):
    stray = PreferencePair.objects.create(slug="stray", order=99, prompt="Not in the session")
    first = open_session.shown.get(position=1).pair_id
    data = {k: {"PAIR": str(first), "STRAY": str(stray.pk)}.get(v, v) for k, v in data.items()}
    if data.get("side") == "left" and data.get("pair") == str(first):
        data["side"] = "LEFT!"  # only the side is bad in the first case
    response = student_client.post(pick_url(open_session), data, headers=HX if htmx else {})
    assert response.status_code == status
    assert message in response.text
    assert not Pick.objects.exists()
    if htmx:
        assert response["Content-Type"].startswith("text/plain")
    else:
        assert f'href="{url("session")}">Back to labeling' in response.text


@pytest.mark.django_db
def test_another_learners_session_is_a_404_and_untouched(client, open_session, other_student):
    client.force_login(other_student)
    shown = open_session.shown.get(position=1)
    response = client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    assert response.status_code == 404
    response = client.post(url("finish", session=open_session.pk))
    assert response.status_code == 404
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_a_pick_on_a_finished_session_is_a_409(student_client, finished_session):
    before = list(Pick.objects.order_by("pk").values_list("chosen", flat=True))
    shown = finished_session.shown.get(position=1)
    response = student_client.post(
        pick_url(finished_session), {"pair": shown.pair_id, "side": "right"}
    )
    assert response.status_code == 409
    assert "Start a new session" in response.text
    assert list(Pick.objects.order_by("pk").values_list("chosen", flat=True)) == before


@pytest.mark.django_db
def test_get_is_not_allowed_on_the_pick_endpoint(student_client, open_session):
    assert student_client.get(pick_url(open_session)).status_code == 405


@pytest.mark.django_db
def test_going_back_shows_the_earlier_pick_and_allows_a_change(student_client, open_session):
    shown = open_session.shown.get(position=1)
    student_client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    page = student_client.get(url("session") + "?pair=1")
    assert "Pair 1 of 6" in page.text
    assert "your pick" in page.text
    student_client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "right"})
    pick = Pick.objects.get(session=open_session)
    assert pick.chosen == shown.right


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?pair=99", "?pair=-1", "?pair=x"])
def test_an_unknown_pair_number_falls_back_to_the_first_unpicked(
    student_client, open_session, query
):
    shown = open_session.shown.get(position=1)
    student_client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    page = student_client.get(url("session") + query)
    assert page.status_code == 200
    assert "Pair 2 of 6" in page.text
    assert "All 6 pairs picked" not in page.text


@pytest.mark.django_db
def test_all_picked_shows_the_review_and_finishing_marks_the_section_done(
    student_client, student, open_session, content
):
    pick_all(open_session)
    page = student_client.get(url("session"))
    assert "All 6 pairs picked" in page.text
    assert "Change pick 3" in page.text
    response = student_client.post(url("finish", session=open_session.pk))
    assert response.status_code == 302
    assert response.url == url("profile")
    open_session.refresh_from_db()
    assert open_session.finished_at is not None
    section = content.sections.get(url_name="labeling:session")
    assert SectionProgress.objects.get(user=student, section=section).done_at is not None


@pytest.mark.django_db
def test_finishing_early_is_a_409_with_a_message(student_client, open_session):
    response = student_client.post(url("finish", session=open_session.pk))
    assert response.status_code == 409
    assert "6 pairs left" in response.text


@pytest.mark.django_db
def test_after_finishing_a_new_session_can_start_and_the_old_one_stays(
    student_client, student, finished_session
):
    page = student_client.get(url("session"))
    assert "Start a new session" in page.text
    student_client.post(url("session-new"))
    assert LabelingSession.objects.filter(user=student).count() == 2
    assert Pick.objects.filter(session=finished_session).count() == 6


@pytest.mark.django_db
def test_resume_after_logout(client, student, open_session):
    login = {"username": "student_a", "password": PASSWORD}
    assert client.post("/accounts/login/", login).status_code == 302
    for position in (1, 2):
        shown = open_session.shown.get(position=position)
        client.post(pick_url(open_session), {"pair": shown.pair_id, "side": "left"})
    client.post("/accounts/logout/")
    assert client.get(url("session")).status_code == 302
    assert client.post("/accounts/login/", login).status_code == 302
    page = client.get(url("session"))
    assert "Pair 3 of 6" in page.text
    assert "2 of 6" in page.text


@pytest.mark.django_db
def test_session_page_queries_are_bounded(
    student_client, open_session, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        assert student_client.get(url("session")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_pick_posts_leave_one_row_and_no_5xx(content, student):
    session, _ = services.session_start(user=student)
    pair_id = session.shown.get(position=1).pair_id
    login = Client()
    login.force_login(student)
    cookie = login.cookies["sessionid"].value
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = Client()
            client.cookies["sessionid"] = cookie
            barrier.wait()
            status = client.post(
                pick_url(session), {"pair": pair_id, "side": "left"}, headers=HX
            ).status_code
        except Exception:
            status = 599
        finally:
            connection.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert statuses == [200] * 50
    assert Pick.objects.filter(session=session, pair_id=pair_id).count() == 1


# ------------------------------------------------------------------------ export


@pytest.mark.django_db
def test_export_is_jsonl_in_trl_conversational_preference_format(student_client, finished_session):
    response = student_client.get(url("export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"] == 'attachment; filename="my-preferences.jsonl"'
    lines = response.content.decode("utf-8").splitlines()
    assert len(lines) == 6
    records = [json.loads(line) for line in lines]
    for record, shown in zip(records, finished_session.shown.order_by("position"), strict=True):
        assert list(record) == ["prompt", "chosen", "rejected"]
        assert record["prompt"] == [{"role": "user", "content": shown.pair.prompt}]
        chosen = shown.pair.responses.get(key=shown.left)  # the fixture picked "left" each time
        rejected = shown.pair.responses.get(key=shown.right)
        assert record["chosen"] == [{"role": "assistant", "content": chosen.text}]
        assert record["rejected"] == [{"role": "assistant", "content": rejected.text}]
        for turn in record["prompt"] + record["chosen"] + record["rejected"]:
            assert set(turn) == {"role", "content"} and isinstance(turn["content"], str)


@pytest.mark.django_db
def test_export_holds_only_the_learners_own_picks(client, finished_session, make_classmates):
    make_classmates(3)
    client.force_login(finished_session.user)
    assert len(client.get(url("export")).content.decode().splitlines()) == 6


@pytest.mark.django_db
def test_export_without_picks_is_an_empty_file(student_client, content):
    response = student_client.get(url("export"))
    assert response.status_code == 200
    assert response.content == b""


# ------------------------------------------------------------------------ profile


@pytest.mark.django_db
def test_profile_before_finishing_points_to_the_session(student_client, open_session):
    page = student_client.get(url("profile"))
    assert "Label six pairs first" in page.text
    assert "Continue labeling" in page.text


@pytest.mark.django_db
def test_profile_shows_tallies_chart_losses_heldout_and_steps(student_client, finished_session):
    page = student_client.get(url("profile"))
    assert page.status_code == 200
    text = page.text
    assert "You chose the more concise answer in" in text
    assert 'role="img"' in text and "<desc" in text
    assert "−log σ(r(chosen) − r(rejected))" in text
    assert "The top of the list for your reward model is" in text
    assert "The three steps of RLHF" in text
    assert "arXiv 2203.02155" in text
    assert "at least 5 of your classmates" in text


@pytest.mark.django_db
def test_class_agreement_appears_from_five_finished_classmates(
    student_client, finished_session, make_classmates
):
    # The tally is published in steps of five finished labelers (the learner included):
    # at 5 it counts 4 classmates (hidden), at 6 nothing changes, at 10 it counts 9.
    make_classmates(4)
    assert "Classmates who agreed" not in student_client.get(url("profile")).text
    make_classmates(1, start=4)
    assert "Classmates who agreed" not in student_client.get(url("profile")).text
    make_classmates(4, start=5)
    page = student_client.get(url("profile"))
    assert "Classmates who agreed" in page.text
    assert "9 of your classmates have finished" in page.text


@pytest.mark.django_db
def test_class_agreement_counts_only_classmates_latest_finished_session(
    student, finished_session, make_classmates
):
    from labeling import fits, profile

    mates = make_classmates(8)  # nine finished with the learner: not a step yet
    again, _ = services.session_start(user=mates[0])
    pick_all(again)
    services.session_finish(session=again)
    make_classmates(1, start=8)  # ten: the tally is recounted
    finished, counts = profile.published_classmates(fits.learner_fit(user=student))
    assert finished == 9
    assert (
        sum(n for (pair_id, _), n in counts.items() if pair_id == again.shown.first().pair_id) == 9
    )


@pytest.mark.django_db
def test_viewing_the_profile_records_the_visit_but_never_finishes_the_section(
    student_client, student, finished_session, content
):
    section = content.sections.get(url_name="labeling:profile")
    student_client.get(url("profile"))
    assert SectionProgress.objects.get(user=student, section=section).done_at is None
    with CaptureQueriesContext(connection) as again:
        assert student_client.get(url("profile")).status_code == 200
    assert not [
        q for q in again.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.mark.django_db
def test_profile_queries_do_not_grow_with_the_class(
    student_client, finished_session, make_classmates, django_assert_num_queries
):
    make_classmates(3)
    student_client.get(url("profile"))  # the first visit records the visit
    with CaptureQueriesContext(connection) as small:
        student_client.get(url("profile"))
    make_classmates(26, start=3)  # thirty finished with the learner: a published step
    with django_assert_num_queries(len(small.captured_queries)):
        page = student_client.get(url("profile"))
    assert "29 of your classmates have finished" in page.text


# ------------------------------------------------------------------------- policy


@pytest.mark.django_db
def test_policy_page_shows_the_beta_control_and_citations(student_client, finished_session):
    page = student_client.get(url("policy"))
    assert page.status_code == 200
    assert 'type="range"' in page.text
    assert "β = 0.1:" in page.text  # DPO's default is the starting point
    assert "arXiv 2203.02155" in page.text and "arXiv 2305.18290" in page.text
    assert "β = 0.02" in page.text
    assert "reward hacking" in page.text


@pytest.mark.django_db
def test_small_beta_chases_the_reward_and_large_beta_stays_with_the_reference(
    student_client, finished_session
):
    from labeling import fits, policy

    fit = fits.learner_fit(user=finished_session.user, figures="policy").fit
    small = policy.policy_view(fit=fit, prompt_slug="key-error", beta_index=0)
    large = policy.policy_view(fit=fit, prompt_slug="key-error", beta_index=9)
    best = max(small.bars, key=lambda b: b.reward)
    assert best.pi_star > 0.95
    assert all(abs(b.pi_star - b.pi_ref) < 0.05 for b in large.bars)
    assert small.kl > large.kl
    page = student_client.get(url("policy") + "?beta=0&prompt=key-error")
    assert f"{best.star_percent}%" in page.text


@pytest.mark.django_db
def test_policy_htmx_returns_the_result_partial(student_client, finished_session):
    response = student_client.get(url("policy") + "?beta=1&prompt=wasp-nest", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="policy-result"')
    assert "β = 0.02:" in response.text
    assert "<html" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?beta=abc", "?beta=-3", "?beta=999", "?prompt=nope"])
def test_policy_tolerates_malformed_parameters(student_client, finished_session, query):
    response = student_client.get(url("policy") + query)
    assert response.status_code == 200
    assert "β = 0.1:" in response.text


@pytest.mark.django_db
def test_moving_beta_never_finishes_the_section(student_client, student, finished_session, content):
    section = content.sections.get(url_name="labeling:policy")
    student_client.get(url("policy"))
    student_client.get(url("policy") + "?beta=2", headers=HX)
    assert SectionProgress.objects.get(user=student, section=section).done_at is None


@pytest.mark.django_db
def test_policy_queries_are_bounded(
    student_client, finished_session, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        student_client.get(url("policy") + "?beta=4")


# -------------------------------------------------------------------------- RLAIF


@pytest.mark.django_db
def test_rlaif_shows_the_constitution_and_cites_bai(student_client, finished_session):
    page = student_client.get(url("rlaif"))
    assert page.status_code == 200
    assert page.text.count('type="checkbox"') >= 6
    assert "arXiv 2212.08073" in page.text and "16" in page.text


@pytest.mark.django_db
def test_rlaif_labels_the_six_pairs_and_counts_agreement(student_client, finished_session):
    from labeling import fits, rlaif

    learner = fits.learner_fit(user=finished_session.user)
    view = rlaif.rlaif_view(learner=learner, principle_slugs=["brief"])
    page = student_client.get(url("rlaif") + "?principle=brief")
    assert len(view.rows) == 6
    count = view.agreement
    assert count.decided + count.ties == 6
    assert f"agrees with you on {count.agreed} of {count.decided} pair" in page.text
    if count.ties:
        assert f"could not decide {count.ties} of 6 pairs" in page.text
    # "Be brief" alone picks the more concise response of every pair that differs.
    for row in view.rows:
        ai = row.ai_choice.traits["concise"]
        other = row.item.response_for_side("right" if row.ai_side == "left" else "left")
        assert ai >= other.traits["concise"]


@pytest.mark.django_db
def test_rlaif_htmx_returns_the_result_partial(student_client, finished_session):
    response = student_client.get(url("rlaif") + "?principle=kind&principle=harmless", headers=HX)
    assert response.text.lstrip().startswith('<div id="rlaif-result"')
    assert "agrees with you on" in response.text


@pytest.mark.django_db
def test_rlaif_ignores_unknown_principles(student_client, finished_session):
    response = student_client.get(url("rlaif") + "?principle=nonsense")
    assert response.status_code == 200
    assert "Choose at least one principle" in response.text


# ---------------------------------------------------------------- overview, demo


@pytest.mark.django_db
def test_overview_panel_counts_picks(student_client, open_session):
    pick_all(open_session)
    page = student_client.get("/courses/language-models/post-training/")
    assert "6 of 6</strong> picks in your open session" in page.text


@pytest.mark.django_db
def test_demo_populate_gives_most_students_a_finished_session_once(classroom, make_user, content):
    import io
    import random

    students = [make_user(f"demo{i:02d}") for i in range(20)]
    demo.demo_populate(
        classroom=classroom, students=students, rng=random.Random(3), stdout=io.StringIO()
    )
    sessions = LabelingSession.objects.filter(user__in=students)
    count = sessions.count()
    assert 12 <= count <= 19
    assert all(s.finished_at for s in sessions)
    assert Pick.objects.filter(session__in=sessions).count() == count * 6
    splits = Pick.objects.filter(session__in=sessions).values_list("chosen", flat=True)
    assert set(splits) == {"a", "b"}
    demo.demo_populate(
        classroom=classroom, students=students, rng=random.Random(4), stdout=io.StringIO()
    )
    assert LabelingSession.objects.filter(user__in=students).count() == count


def test_urls_follow_the_course_slugs():
    assert url("session") == "/courses/language-models/post-training/label/"
    assert KW["module"] == "post-training"


@pytest.mark.django_db
def test_a_tie_is_no_pick_and_never_counts_as_agreement(student_client, student, content):
    """A learner who always picked left, with a principle every pair ties on, must not
    read that the labeler agrees with them (a tie used to count as a pick of the left)."""
    from labeling.models import Principle

    Principle.objects.create(slug="indifferent", order=99, name="Indifferent", text="-",
                             weights={})  # fmt: skip
    session, _ = services.session_start(user=student)
    pick_all(session, side="left")
    services.session_finish(session=session)
    page = student_client.get(url("rlaif") + "?principle=indifferent")
    assert "could not decide any of your pairs" in page.text
    assert "could not decide 6 of 6 pairs" in page.text
    assert "agrees with you on" not in page.text
    assert '<span class="agree">Same</span>' not in page.text


@pytest.mark.django_db
def test_a_tie_heavy_principle_counts_only_the_pairs_it_decides(student_client, student, content):
    """A principle on the trait that the fewest pairs vary: the always-left learner reads
    how many pairs the constitution could not decide, and agreement over the rest only."""
    from labeling import catalog
    from labeling.models import Principle, SessionPair

    session, _ = services.session_start(user=student)
    pick_all(session, side="left")
    services.session_finish(session=session)
    pairs = catalog.pairs()
    shown = list(SessionPair.objects.filter(session=session))
    space = catalog.trait_space()

    def gaps(slug):
        """Left minus right on this trait, per shown pair."""
        out = []
        for s in shown:
            responses = pairs[s.pair_id].responses
            right = "b" if s.left == "a" else "a"
            left_value = space.vector(responses[s.left].traits)[space.slugs.index(slug)]
            right_value = space.vector(responses[right].traits)[space.slugs.index(slug)]
            out.append(left_value - right_value)
        return out

    slug = max(
        (s for s in space.slugs if any(abs(g) > 1e-9 for g in gaps(s))),
        key=lambda s: sum(abs(g) <= 1e-9 for g in gaps(s)),
    )
    g = gaps(slug)
    ties = sum(abs(x) <= 1e-9 for x in g)
    decided = len(g) - ties
    agreed = sum(x > 1e-9 for x in g)  # the learner always picked left
    assert ties >= 1 and decided >= 1
    Principle.objects.create(slug="one-trait", order=99, name="One trait", text="-",
                             weights={slug: 1.0})  # fmt: skip
    page = student_client.get(url("rlaif") + "?principle=one-trait").text
    assert f"could not decide {ties} of {len(g)} pairs" in page
    assert f"agrees with you on {agreed} of {decided} pair" in page
    assert f"agrees with you on {agreed + ties} of {len(g)}" not in page  # ties as picks
