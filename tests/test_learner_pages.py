"""Every learner page, end to end: its first view costs at most six queries (session and
user included), the same for a class of 3 as for a class of 3,000; a repeated view
writes nothing; and an admin's edit shows on the next request."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courseware.catalog import course_catalog
from courseware.models import Enrollment
from labeling import services as labeling_services
from labeling.models import LabelingSession, Pick, PreferencePair, SessionPair
from quiz import services as quiz_services
from quiz.models import Quiz

MAX_QUERIES = 6
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Learner:
    user: object
    client: Client
    open_attempt: int
    graded_attempt: int


def make_learner(username: str, classroom) -> Learner:
    """A learner who has finished labeling, has a graded quiz attempt and an open one."""
    user = get_user_model().objects.create(username=username, password=make_password(None))
    Enrollment.objects.create(classroom=classroom, student=user)
    session, _ = labeling_services.session_start(user=user, rng=random.Random(1))
    for shown in session.shown.all():
        labeling_services.pick_record(session=session, pair=shown.pair_id, side="left")
    labeling_services.session_finish(session=session)
    quiz = Quiz.objects.get()
    graded = quiz_services.attempt_start(user=user, quiz=quiz, rng=random.Random(2))
    answers = {slot.question_id: slot.choice_order[0] for slot in graded.slots.all()}
    quiz_services.attempt_submit(attempt=graded, answers=answers)
    open_attempt = quiz_services.attempt_start(user=user, quiz=quiz, rng=random.Random(3))
    client = Client()
    client.force_login(user)
    return Learner(user, client, open_attempt.pk, graded.pk)


def learner_pages(content, learner: Learner) -> dict[str, str]:
    """name -> URL of every page a learner reads, with the variants its forms produce."""
    kw = {"course": content.course.slug, "module": content.slug}
    module = course_catalog().module(content.course.slug, content.slug)
    pages = {
        "overview": reverse("courseware:module", kwargs=kw),
        "pipeline": reverse("courseware:pipeline", kwargs=kw),
        "pre-training": reverse("courseware:pretraining", kwargs=kw),
        "pre-training next": reverse("courseware:pretraining", kwargs=kw) + "?phrase=in+the",
        "pre-training sample": reverse("courseware:pretraining", kwargs=kw)
        + "?start=and+the&temperature=0.8",
        "sft": reverse("courseware:sft", kwargs=kw),
        "compare": reverse("courseware:compare", kwargs=kw),
        "compare guess": reverse("courseware:compare-guess", kwargs=kw),
        "label": reverse("labeling:session", kwargs=kw),
        "reward profile": reverse("labeling:profile", kwargs=kw),
        "reward profile prior": reverse("labeling:profile", kwargs=kw) + "?lam=1",
        "policy": reverse("labeling:policy", kwargs=kw),
        "policy beta": reverse("labeling:policy", kwargs=kw) + "?beta=1&prompt=wasp-nest",
        "critique": reverse("labeling:critique", kwargs=kw),
        "critique round": reverse("labeling:critique", kwargs=kw) + "?principle=harmless&step=3",
        "rlaif": reverse("labeling:rlaif", kwargs=kw),
        "rlaif principles": reverse("labeling:rlaif", kwargs=kw) + "?principle=brief",
        "over-optimisation": reverse("labs:overoptimisation", kwargs=kw),
        "over-optimisation beta n": reverse("labs:overoptimisation", kwargs=kw) + "?beta=2&n=8",
        "quiz": reverse("quiz:quiz", kwargs=kw),
        "quiz attempt": reverse("quiz:attempt", kwargs={**kw, "pk": learner.open_attempt}),
        "quiz result": reverse("quiz:result", kwargs={**kw, "pk": learner.graded_attempt}),
        # Whether the quiz score reached the learner's LMS (lti).
        "lms grades": reverse("lti:grades"),
        "closing": reverse("courseware:closing", kwargs=kw),
    }
    from courseware.models import PipelineStage

    for stage in PipelineStage.objects.all():
        pages[f"stage {stage.slug}"] = reverse(
            "courseware:pipeline-stage", kwargs={**kw, "stage": stage.slug}
        )
    for section in module.sections:
        if not section.url_name:
            pages[f"reading {section.slug}"] = section.url
    return pages


def from_an_lms(learner: Learner, classroom) -> Learner:
    """The learner as an LMS launch leaves them: linked to the platform, their class bound
    to the LMS course, a score report for their graded attempt, and a session the launch
    started (lti.views._sign_in)."""
    from lti.models import LtiContext, LtiUser, Membership, Platform, ResourceLink, ScoreOutbox

    platform = Platform.objects.create(
        name="Test LMS",
        issuer="https://lms.example",
        client_id="tool-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        key_set_url="https://lms.example/jwks",
    )
    link = LtiUser.objects.create(platform=platform, sub="s-1", user=learner.user)
    context = LtiContext.objects.create(platform=platform, context_id="c-1", classroom=classroom)
    Membership.objects.create(context=context, lti_user=link, first_launch_at=timezone.now())
    quiz = Quiz.objects.get()
    resource = ResourceLink.objects.create(
        context=context,
        resource_link_id="r-1",
        module_id=quiz.module_id,
        lineitem_url="https://lms.example/li/1",
    )
    ScoreOutbox.objects.create(
        attempt_id=learner.graded_attempt,
        resource_link=resource,
        lti_user=link,
        score_given=3,
        score_maximum=5,
        activity_progress="Submitted",
        graded_at=timezone.now(),
    )
    session = learner.client.session
    session["lti"] = {
        "platform": platform.pk,
        "platform_name": platform.name,
        "learner": True,
        "frame_origins": ["https://lms.example"],
    }
    session.save()
    return learner


def grow_class(classroom, n: int) -> None:
    """n more classmates with a finished labeling session each, in bulk."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"mate{i:05d}", password="!") for i in range(n)
    )
    Enrollment.objects.bulk_create(Enrollment(classroom=classroom, student=u) for u in users)
    sessions = LabelingSession.objects.bulk_create(LabelingSession(user=u) for u in users)
    pairs = list(PreferencePair.objects.filter(is_active=True))
    rng = random.Random(n)
    shown, picks = [], []
    for session in sessions:
        for position, pair in enumerate(pairs, start=1):
            shown.append(SessionPair(session=session, pair=pair, position=position, left="a"))
            chosen = rng.choice("ab")
            picks.append(Pick(session=session, pair=pair, chosen=chosen, chosen_left=chosen == "a"))
    SessionPair.objects.bulk_create(shown)
    Pick.objects.bulk_create(picks)
    LabelingSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
        finished_at=timezone.now()
    )
    labeling_services.class_tally_refresh(classroom_ids=[classroom.pk])


def first_views(content, learner: Learner) -> dict[str, tuple[int, list[str]]]:
    counts = {}
    for name, url in learner_pages(content, learner).items():
        with CaptureQueriesContext(connection) as queries:
            response = learner.client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = (len(queries), [q["sql"] for q in queries.captured_queries])
    return counts


@pytest.mark.django_db
def test_every_learner_page_costs_at_most_six_queries_for_3_or_3000_classmates(
    content, classroom, make_user
):
    warm = make_learner("warm_up", classroom)
    first_views(content, warm)  # content into memory, the n-gram model built
    small = first_views(content, make_learner("in_a_small_class", classroom))
    grow_class(classroom, 2997)
    big = first_views(content, make_learner("in_a_big_class", classroom))
    over = {name: sql for name, (n, sql) in small.items() if n > MAX_QUERIES}
    assert not over, over
    assert {name: n for name, (n, _) in big.items()} == {name: n for name, (n, _) in small.items()}


@pytest.mark.django_db
def test_a_repeated_view_of_every_learner_page_writes_nothing(content, classroom):
    learner = make_learner("reader", classroom)
    pages = learner_pages(content, learner)
    for url in pages.values():
        learner.client.get(url)
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            assert learner.client.get(url).status_code == 200
        writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(WRITES)]
        assert not writes, (name, writes)


@pytest.mark.django_db
def test_a_learner_launched_from_an_lms_pays_no_extra_query_on_any_page(content, classroom):
    """The LTI state a launched learner's pages show (the overview panel, the frame
    policy, their grade reports) comes with the session the request reads anyway."""
    first_views(content, make_learner("warm_up", classroom))
    plain = first_views(content, make_learner("plain", classroom))
    lms = from_an_lms(make_learner("launched", classroom), classroom)
    launched = first_views(content, lms)
    assert {name: n for name, (n, _) in launched.items()} == {
        name: n for name, (n, _) in plain.items()
    }
    overview = lms.client.get(learner_pages(content, lms)["overview"])
    assert "Your grade in Test LMS" in overview.text
    assert "frame-ancestors 'self' https://lms.example" in overview["Content-Security-Policy"]
    grades = lms.client.get(reverse("lti:grades"))
    assert "3 of 5" in grades.text and "Not there yet" in grades.text
    for url in learner_pages(content, lms).values():
        with CaptureQueriesContext(connection) as queries:
            assert lms.client.get(url).status_code == 200
        assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith(WRITES)]
