"""The page cache over the real pages, PostgreSQL and the test client: what a learner
sees after each kind of write, and what a kept page costs."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courseware.auth_backend import CachedModelBackend
from courseware.models import Enrollment, SectionProgress, TeachingText
from labeling import services as labeling_services
from labeling.models import ScreenSide

pytestmark = pytest.mark.django_db

KW = {"course": "language-models", "module": "post-training"}


def page(name: str) -> str:
    return reverse(name, kwargs=KW)


def section_url(section) -> str:
    return section.get_absolute_url()


def reading_sections(content):
    """Sections a learner finishes with the Done button (not by an activity)."""
    return [s for s in content.sections.all() if s.url_name.startswith("courseware:")]


def test_a_kept_page_costs_one_query_and_matches_the_rendered_one(
    student_client, content, django_assert_num_queries
):
    url = page("courseware:pretraining")
    student_client.get(url)  # the CSRF cookie arrives with the first page
    rendered = student_client.get(url)
    # Only the session (in the database without a shared cache); no visit written again
    # within a minute, no view, no template.
    with django_assert_num_queries(1):
        kept = student_client.get(url)
    assert kept.status_code == 200
    assert kept.content == rendered.content
    assert kept.headers["Content-Security-Policy"] == rendered.headers["Content-Security-Policy"]


def test_an_admin_edit_shows_on_the_next_request(student_client, content):
    url = page("courseware:pretraining")
    student_client.get(url)
    student_client.get(url)
    text = TeachingText.objects.filter(key__startswith="pretraining").first()
    assert text is not None
    text.body = "An edited paragraph about next-token prediction."
    text.save()
    assert "An edited paragraph about next-token prediction." in student_client.get(url).text


def test_picks_show_at_once_on_the_session_page(student_client, student, content):
    url = page("labeling:session")
    session, _ = labeling_services.session_start(user=student, rng=random.Random(3))
    student_client.get(url)
    assert "<strong>0 of 6</strong>" in student_client.get(url).text  # kept from here on
    first = session.shown.order_by("position").first()
    response = student_client.post(
        reverse("labeling:pick", kwargs={**KW, "session": session.pk}),
        {"pair": first.pair_id, "side": ScreenSide.LEFT},
    )
    assert response.status_code == 302
    assert "<strong>1 of 6</strong>" in student_client.get(url).text


def test_one_learners_page_is_never_served_to_another(student, make_user, classroom, content):
    other = make_user("second_learner")
    Enrollment.objects.create(classroom=classroom, student=other)
    url = page("courseware:sft")
    pages = {}
    for user in (student, other):
        client = Client()
        client.force_login(user)
        client.get(url)
        pages[user.username] = client.get(url).text
    assert f"({student.username})" in pages[student.username]
    assert f"({other.username})" in pages[other.username]
    assert f"({student.username})" not in pages[other.username]


def test_the_profile_follows_classmates_finishing(
    student_client, student, make_user, classroom, content
):
    session, _ = labeling_services.session_start(user=student, rng=random.Random(4))
    for shown in session.shown.all():
        labeling_services.pick_record(session=session, pair=shown.pair_id, side=ScreenSide.LEFT)
    labeling_services.session_finish(session=session)
    url = page("labeling:profile")
    student_client.get(url)
    assert "(0 so far)" in student_client.get(url).text
    mate = make_user("mate_0")
    Enrollment.objects.create(classroom=classroom, student=mate)
    theirs, _ = labeling_services.session_start(user=mate, rng=random.Random(5))
    for shown in theirs.shown.all():
        labeling_services.pick_record(session=theirs, pair=shown.pair_id, side=ScreenSide.RIGHT)
    labeling_services.session_finish(session=theirs)
    assert "(1 so far)" in student_client.get(url).text


def test_done_updates_the_outline_on_every_kept_page(student_client, content):
    first, second = reading_sections(content)[:2]
    student_client.get(section_url(second))
    kept = student_client.get(section_url(second)).text
    student_client.post(reverse("courseware:section-done", kwargs={**KW, "section": first.slug}))
    assert student_client.get(section_url(second)).text != kept


def test_a_kept_section_still_records_the_visit_and_continue_follows_it(
    student_client, student, content
):
    first, second = reading_sections(content)[:2]
    for section in (first, first, second, second):
        student_client.get(section_url(section))
    overview = student_client.get(content.get_absolute_url())
    assert second.title in overview.text
    # Back to the first section: its page is kept, the visit is still written.
    with CaptureQueriesContext(connection) as queries:
        student_client.get(section_url(first))
    assert any(q["sql"].startswith("UPDATE") for q in queries.captured_queries)
    response = student_client.get(reverse("courseware:continue"))
    assert response.url == first.get_absolute_url()
    latest = SectionProgress.objects.filter(user=student).order_by("-last_seen_at").first()
    assert latest.section_id == first.pk


def test_reloading_the_same_section_writes_nothing(student_client, content):
    section = reading_sections(content)[0]
    student_client.get(section_url(section))
    with CaptureQueriesContext(connection) as queries:
        student_client.get(section_url(section))
        student_client.get(section_url(section))
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]


def test_a_new_login_gets_a_page_with_its_own_csrf_token(student, content):
    client = Client(enforce_csrf_checks=True)
    client.force_login(student)
    url = page("quiz:quiz")
    client.get(url)
    client.get(url)  # kept
    client.logout()
    client.force_login(student)
    client.get(url)
    html = client.get(url).text
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(reverse("quiz:start", kwargs=KW), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302  # a stale page's token would answer 403


def test_a_password_change_elsewhere_ends_other_sessions(student, content):
    elsewhere = Client()
    elsewhere.force_login(student)
    url = page("courseware:sft")
    elsewhere.get(url)
    assert elsewhere.get(url).status_code == 200  # user and page both kept now
    student.set_password("a-brand-new-password-77")
    student.save()
    response = elsewhere.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_deactivated_learner_is_logged_out_at_once(student_client, student, content):
    url = page("courseware:sft")
    student_client.get(url)
    student_client.get(url)
    get_user_model().objects.filter(pk=student.pk).update(is_active=False)
    student.refresh_from_db()
    student.save()  # as admin does: the save is what invalidates
    assert student_client.get(url).status_code == 302


def test_the_user_cache_never_keeps_a_row_read_before_a_change(student):
    # A request read the row, then the user changed, then the request stored the row:
    # the stored copy carries the token read before the change and is ignored.
    backend = CachedModelBackend()
    from django.core.cache import cache

    from courseware import auth_backend

    entry_key, token_key = auth_backend.user_cache_keys(student.pk)
    backend.get_user(student.pk)
    stale_token, stale_user = cache.get(entry_key)
    student.first_name = "Renamed"
    student.save()
    cache.set(entry_key, (stale_token, stale_user))  # the late write of the racing request
    assert backend.get_user(student.pk).first_name == "Renamed"
    assert cache.get(token_key) != stale_token


def test_a_new_role_shows_in_the_header_at_once(student_client, student, content):
    from django.contrib.auth.models import Group

    from courseware.services import INSTRUCTOR_GROUP

    url = page("courseware:sft")
    student_client.get(url)
    assert "My classes" not in student_client.get(url).text  # kept
    Group.objects.get_or_create(name=INSTRUCTOR_GROUP)[0].user_set.add(student)
    assert "My classes" in student_client.get(url).text


def test_a_pick_removed_in_admin_shows_on_the_session_page(student_client, student, content):
    url = page("labeling:session")
    session, _ = labeling_services.session_start(user=student, rng=random.Random(6))
    first = session.shown.order_by("position").first()
    labeling_services.pick_record(session=session, pair=first.pair_id, side=ScreenSide.LEFT)
    student_client.get(url)
    assert "<strong>1 of 6</strong>" in student_client.get(url).text  # kept
    session.picks.get().delete()  # as admin's delete does: one row, its signals
    assert "<strong>0 of 6</strong>" in student_client.get(url).text


@pytest.mark.parametrize(
    "how", ["from the user", "from the group", "group cleared", "group deleted"]
)
def test_a_role_taken_away_is_gone_at_once(instructor_client, instructor, classroom, how):
    # The kept user carries the instructor role: taking it away, from either side of the
    # relation, must end access on the next request (as without the cache).
    from django.contrib.auth.models import Group

    from courseware.services import INSTRUCTOR_GROUP

    url = reverse("courseware:classroom", kwargs={"pk": classroom.pk})
    assert instructor_client.get(url).status_code == 200
    group = Group.objects.get(name=INSTRUCTOR_GROUP)
    if how == "from the user":
        instructor.groups.remove(group)
    elif how == "from the group":
        group.user_set.remove(instructor)
    elif how == "group cleared":
        group.user_set.clear()
    else:
        group.delete()
    assert instructor_client.get(url).status_code == 403
