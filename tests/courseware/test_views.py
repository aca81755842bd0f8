"""Course pages, progress, instructor pages, health check: through the test client."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse

from courseware.models import Classroom, Course, Module, Section, SectionProgress


def reading_url(section: Section) -> str:
    return reverse(
        "courseware:section",
        kwargs={
            "course": section.module.course.slug,
            "module": section.module.slug,
            "section": section.slug,
        },
    )


@pytest.mark.django_db
def test_home_lists_the_course_and_module_three(client, content):
    response = client.get(reverse("courseware:home"))
    assert response.status_code == 200
    assert "Module 3: From base model to assistant" in response.text


@pytest.mark.django_db
def test_module_overview_shows_progress_in_bounded_queries(
    student_client, student, content, django_assert_max_num_queries
):
    first, second = content.sections.all()[:2]
    SectionProgress.objects.create(user=student, section=first)
    with django_assert_max_num_queries(12):
        response = student_client.get(content.get_absolute_url())
    assert response.status_code == 200
    assert "0 of 14" in response.text
    assert f"Continue: {first.title}" in response.text


@pytest.mark.django_db
def test_module_overview_query_count_does_not_grow_with_progress(
    student_client, student, content, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    student_client.get(content.get_absolute_url())  # the content into memory
    with CaptureQueriesContext(connection) as before:
        student_client.get(content.get_absolute_url())
    for section in content.sections.all():
        SectionProgress.objects.get_or_create(user=student, section=section)
    with django_assert_num_queries(len(before.captured_queries)):
        student_client.get(content.get_absolute_url())


@pytest.mark.django_db
def test_visiting_a_section_marks_it_seen_once(student_client, student, content):
    section = content.sections.get(slug="pipeline")
    student_client.get(reading_url(section))
    student_client.get(reading_url(section))
    assert SectionProgress.objects.filter(user=student, section=section).count() == 1
    assert SectionProgress.objects.get(user=student, section=section).done_at is None


@pytest.mark.django_db
def test_done_marks_section_done_and_moves_to_the_next(student_client, student, content):
    first, second = content.sections.all()[:2]
    url = reverse(
        "courseware:section-done",
        kwargs={"course": "language-models", "module": "post-training", "section": first.slug},
    )
    response = student_client.post(url)
    assert response.status_code == 302
    assert response.url == second.get_absolute_url()
    progress = SectionProgress.objects.get(user=student, section=first)
    assert progress.done_at is not None
    done_at = progress.done_at
    student_client.post(url)  # a replayed submit keeps the first finishing time
    progress.refresh_from_db()
    assert progress.done_at == done_at


@pytest.mark.django_db
def test_done_needs_post(student_client, content):
    url = reverse(
        "courseware:section-done",
        kwargs={"course": "language-models", "module": "post-training", "section": "pipeline"},
    )
    assert student_client.get(url).status_code == 405


@pytest.mark.django_db
def test_unknown_section_is_404(student_client, content):
    url = reverse(
        "courseware:section",
        kwargs={"course": "language-models", "module": "post-training", "section": "nope"},
    )
    assert student_client.get(url).status_code == 404


@pytest.mark.django_db
def test_continue_leads_to_the_first_section_not_yet_done(student_client, student, content):
    sections = list(content.sections.all())
    student_client.get(reading_url(sections[0]))
    student_client.post(
        reverse(
            "courseware:section-done",
            kwargs={
                "course": "language-models",
                "module": "post-training",
                "section": sections[0].slug,
            },
        )
    )
    student_client.get(reading_url(sections[3]))  # a visit is not progress to resume from
    response = student_client.get(reverse("courseware:continue"))
    assert response.status_code == 302
    assert response.url == sections[1].get_absolute_url()


@pytest.mark.django_db
def test_new_learner_starts_at_the_first_section(student_client, content):
    response = student_client.get(reverse("courseware:continue"))
    assert response.url == content.sections.first().get_absolute_url()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_from_module_pages(client, content):
    response = client.get(content.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_student_cannot_reach_instructor_pages_or_admin(student_client, classroom):
    assert student_client.get(reverse("courseware:teach")).status_code == 403
    assert (
        student_client.get(reverse("courseware:classroom", kwargs={"pk": classroom.pk})).status_code
        == 403
    )
    old = classroom.join_code
    response = student_client.post(
        reverse("courseware:classroom-regenerate-code", kwargs={"pk": classroom.pk})
    )
    assert response.status_code == 403
    classroom.refresh_from_db()
    assert classroom.join_code == old
    response = student_client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.django_db
def test_instructor_sees_only_their_classes(instructor_client, classroom, other_classroom, student):
    response = instructor_client.get(reverse("courseware:teach"))
    assert classroom.name in response.text and other_classroom.name not in response.text
    assert (
        instructor_client.get(
            reverse("courseware:classroom", kwargs={"pk": classroom.pk})
        ).status_code
        == 200
    )
    assert (
        instructor_client.get(
            reverse("courseware:classroom", kwargs={"pk": other_classroom.pk})
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_instructor_regenerates_join_code_and_the_old_one_stops_working(
    instructor_client, classroom, client
):
    old = classroom.join_code
    url = reverse("courseware:classroom-regenerate-code", kwargs={"pk": classroom.pk})
    response = instructor_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    classroom.refresh_from_db()
    assert classroom.join_code != old
    assert classroom.join_code_display in response.text
    assert "<html" not in response.text  # the htmx answer is the card alone
    response = instructor_client.post(reverse("courseware:join"), {"join_code": old})
    assert response.status_code == 400


@pytest.mark.django_db
def test_other_instructor_cannot_regenerate_a_code(client, other_instructor, classroom):
    client.force_login(other_instructor)
    old = classroom.join_code
    url = reverse("courseware:classroom-regenerate-code", kwargs={"pk": classroom.pk})
    assert client.post(url).status_code == 404
    classroom.refresh_from_db()
    assert classroom.join_code == old


@pytest.mark.django_db
def test_roster_query_count_is_the_same_for_3_and_30_students(
    instructor_client, classroom, make_user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("courseware:classroom", kwargs={"pk": classroom.pk})
    for n in range(3):
        classroom.enrollments.create(student=make_user(f"s{n}"))
    with CaptureQueriesContext(connection) as small:
        instructor_client.get(url)
    for n in range(3, 30):
        classroom.enrollments.create(student=make_user(f"s{n}"))
    with django_assert_num_queries(len(small.captured_queries)):
        response = instructor_client.get(url)
    assert "Students (30)" in response.text


@pytest.mark.django_db
def test_healthz_is_200_when_the_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "up"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not(client):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.django_db
def test_healthz_is_503_when_the_shared_cache_does_not_answer(client, settings):
    settings.SHARED_CACHE = True
    with mock.patch("courseware.health.cache.set", side_effect=ConnectionError("refused")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "cache": "down"}


@pytest.mark.django_db
def test_content_loader_run_twice_leaves_the_same_rows_and_keeps_edits(content):
    section = Section.objects.get(slug="pipeline")
    section.title = "Edited by an admin"
    section.save()
    counts = (Course.objects.count(), Module.objects.count(), Section.objects.count())
    call_command("load_content", stdout=io.StringIO())
    call_command("load_content", stdout=io.StringIO())
    assert (Course.objects.count(), Module.objects.count(), Section.objects.count()) == counts
    assert Section.objects.get(slug="pipeline").title == "Edited by an admin"


@pytest.mark.django_db
def test_demo_command_makes_a_class_with_students_and_prints_logins(content):
    out = io.StringIO()
    call_command("demo", students=12, stdout=out)
    call_command("demo", students=12, stdout=io.StringIO())  # idempotent
    classroom = Classroom.objects.get(name="Demo class")
    assert classroom.enrollments.count() == 12
    assert classroom.instructors.filter(username="teacher").exists()
    assert "student01" in out.getvalue() and "teacher" in out.getvalue()
    assert (
        SectionProgress.objects.filter(done_at__isnull=False).values("user").distinct().count() > 3
    )


@pytest.mark.django_db
def test_make_instructor_command(content, classroom):
    call_command("make_instructor", "prof", "--classroom", classroom.name, stdout=io.StringIO())
    assert classroom.instructors.filter(username="prof").exists()


@pytest.mark.django_db
def test_markdown_from_admin_never_renders_raw_html(student_client, content):
    # A reading section of its own: the shipped sections' paths belong to interactive pages.
    section = Section.objects.create(
        module=content,
        order=99,
        slug="reading-only",
        title="Reading only",
        body="Hello <script>alert(1)</script> **bold**",
    )
    response = student_client.get(reading_url(section))
    assert "<strong>bold</strong>" in response.text
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)" in response.text


@pytest.mark.django_db
def test_admin_can_edit_a_section_and_the_page_shows_it(client, admin_user, content, student):
    # A reading section of its own: the shipped sections' paths belong to interactive pages.
    section = Section.objects.create(
        module=content, order=99, slug="reading-only", title="Reading only", body="Old."
    )
    client.force_login(admin_user)
    url = reverse("admin:courseware_section_change", args=[section.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "module": section.module_id,
        "order": section.order,
        "slug": section.slug,
        "title": "The whole pipeline",
        "summary": section.summary,
        "body": "Changed **body**",
        "url_name": "",
    }
    assert client.post(url, data).status_code == 302
    client.force_login(student)
    page = client.get(reading_url(section))
    assert page.status_code == 200
    assert "The whole pipeline" in page.text
    assert "Changed <strong>body</strong>" in page.text  # not only in the admin's message


def test_livez_answers_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("livez"))
    assert response.status_code == 200
    assert response.text == "ok"
