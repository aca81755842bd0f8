"""Thin views: parse, call a service or selector, render."""

from __future__ import annotations

import sys

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails
from psycopg import Error as PsycopgError

from . import csv_rows, pagecache, selectors, services
from .forms import JoinForm, SignupForm
from .models import Classroom, Course
from .pagecache import cached_page
from .plugins import app_hooks, done_by_activity_rules


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    courses = Course.objects.prefetch_related("modules")
    return render(request, "courseware/home.html", {"courses": courses})


@require_GET
@login_required
def resume(request: HtmxHttpRequest) -> HttpResponse:
    """Send a returning learner to where they stopped."""
    if selectors.is_instructor(request.user) and not request.user.enrollments.exists():
        return redirect("courseware:teach")
    module = selectors.module_for_user(user=request.user)
    if module is None:
        return redirect("courseware:home")
    section = selectors.resume_section(user=request.user, module=module)
    return redirect(section or module)


@require_GET
def course_detail(request: HtmxHttpRequest, course: str) -> HttpResponse:
    course_obj = get_object_or_404(Course, slug=course)
    modules = course_obj.modules.all()
    return render(request, "courseware/course.html", {"course": course_obj, "modules": modules})


@require_GET
@cached_page
@login_required
def module_detail(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    # "Continue where you stopped" follows the last visit.
    pagecache.depends_on(request, pagecache.visit_scope(request.user.pk))
    module_obj = selectors.module_get(course=course, module=module)
    outline = selectors.module_outline(module=module_obj, user=request.user)
    panels = [
        panel
        for _, hook in app_hooks("overview_panels")
        for panel in hook(user=request.user, module=module_obj)
    ]
    following = module_obj.course.modules.filter(number__gt=module_obj.number).first()
    context = {
        "module": module_obj,
        "outline": outline,
        "resume": selectors.resume_section(user=request.user, module=module_obj, outline=outline),
        "done_count": sum(entry.done for entry in outline),
        "started": any(entry.seen for entry in outline),
        "panels": panels,
        "next_module": following,
    }
    return render(request, "courseware/module.html", context)


@pagecache.replay_hook("section_seen")
def record_visit(request: HttpRequest, section_id: int) -> None:
    """Mark a section seen, rendered or served from the cache. A learner reloading the
    section they are on is written at most once a minute."""
    if not pagecache.revisit_is_recorded(request, section_id):
        services.progress_mark_seen(user=request.user, section=section_id)
        pagecache.visit_recorded(request, section_id)
    pagecache.on_replay(request, "section_seen", section_id)


def section_context(
    request: HttpRequest,
    *,
    course: str,
    module: str,
    section: str | None = None,
    url_name: str | None = None,
) -> dict:
    """What every section page needs: the section, the outline, neighbours.

    Interactive pages in any app call this with their own `url_name` (e.g.
    `section_context(request, course=course, module=module, url_name="labeling:session")`)
    so that all section pages share one navigation and mark progress the same way.
    Costs three queries.
    """
    section_obj = selectors.section_get(
        course=course, module=module, section=section, url_name=url_name
    )
    if request.method in ("GET", "HEAD"):
        # Only a visit marks a section seen: a rejected POST must write nothing.
        record_visit(request, section_obj.pk)
    outline = selectors.module_outline(module=section_obj.module, user=request.user)
    previous, following = selectors.outline_neighbours(outline, section_obj)
    return {
        "module": section_obj.module,
        "section": section_obj,
        "outline": outline,
        "previous": previous,
        "next": following,
        # Shown by the pager instead of "Done" for sections only their activity finishes.
        "hide_done": done_by_activity_rules().get(section_obj.url_name, ""),
    }


@require_GET
@cached_page
@login_required
def section_detail(
    request: HtmxHttpRequest, course: str, module: str, section: str
) -> HttpResponse:
    context = section_context(request, course=course, module=module, section=section)
    return render(request, "courseware/section.html", context)


@require_POST
@login_required
def section_done(request: HtmxHttpRequest, course: str, module: str, section: str) -> HttpResponse:
    section_obj = selectors.section_get(course=course, module=module, section=section)
    if reason := done_by_activity_rules().get(section_obj.url_name):
        context = {"section": section_obj, "reason": reason}
        return render(request, "courseware/section_done_refused.html", context, status=409)
    services.progress_mark_done(user=request.user, section=section_obj)
    outline = selectors.module_outline(module=section_obj.module, user=request.user)
    _, following = selectors.outline_neighbours(outline, section_obj)
    return redirect(following or section_obj.module)


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("courseware:join")
    form = SignupForm(
        request.POST if request.method == "POST" else None,
        initial={"join_code": request.GET.get("code", "")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user, classroom = services.student_signup(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    email=form.cleaned_data["email"],
                    join_code=form.cleaned_data["join_code"],
                )
            except services.JoinCodeError as exc:
                form.add_error("join_code", exc)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                login(request, user, backend="courseware.auth_backend.CachedModelBackend")
                messages.success(request, f"Welcome! You have joined {classroom.name}.")
                return redirect("courseware:continue")
        status = 400
    return render(request, "courseware/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def join(request: HtmxHttpRequest) -> HttpResponse:
    form = JoinForm(
        request.POST if request.method == "POST" else None,
        initial={"join_code": request.GET.get("code", "")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                classroom, created = services.enrollment_join(
                    student=request.user, join_code=form.cleaned_data["join_code"]
                )
            except services.JoinCodeError as exc:
                form.add_error("join_code", exc)
            else:
                if created:
                    messages.success(request, f"You have joined {classroom.name}.")
                else:
                    messages.info(request, f"You were already in {classroom.name}.")
                return redirect("courseware:continue")
        status = 400
    classes = request.user.classrooms.select_related("course").order_by("name")
    return render(
        request, "courseware/join.html", {"form": form, "classes": classes}, status=status
    )


def _instructor_only(request: HttpRequest) -> None:
    if not selectors.is_instructor(request.user):
        raise PermissionDenied("This page is for instructors.")


def instructor_classroom(request: HttpRequest, pk: int) -> Classroom:
    """The class an instructor page is about: 403 for someone who is not an instructor,
    404 for a class they do not teach (admins see every class). Every class page and
    export in every app goes through here."""
    _instructor_only(request)
    return selectors.classroom_for_instructor(user=request.user, pk=pk)


@require_GET
@login_required
def teach(request: HtmxHttpRequest) -> HttpResponse:
    _instructor_only(request)
    classrooms = selectors.classrooms_taught(user=request.user)
    return render(request, "courseware/teach.html", {"classrooms": classrooms})


ROSTER_PAGE_SIZE = 50


def names_hidden(request: HttpRequest) -> bool:
    return bool(request.session.get("hide_names", False))


@require_GET
@login_required
def classroom_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    classroom = instructor_classroom(request, pk)
    columns = selectors.roster_columns(classroom=classroom)
    sort = request.GET.get("sort", "name")
    descending = request.GET.get("dir") == "desc"
    roster = selectors.classroom_roster(
        classroom=classroom, columns=columns, sort=sort, descending=descending
    )
    page = Paginator(roster, ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    hide = names_hidden(request)
    rows = [
        {
            "name": selectors.pseudonym(classroom_id=classroom.pk, user_id=student.pk)
            if hide
            else student.get_username(),
            "joined_at": student.joined_at,
            "values": [(column, getattr(student, column.key)) for column in columns],
        }
        for student in page.object_list
    ]
    context = {
        "classroom": classroom,
        "columns": columns,
        "rows": rows,
        "page": page,
        "sort": sort,
        "descending": descending,
        "hide_names": hide,
        "section_total": selectors.course_section_total(course_id=classroom.course_id),
        "links": selectors.class_links(classroom=classroom),
    }
    if request.htmx and request.htmx.target == "roster":
        return render(request, "courseware/classroom.html#roster", context)
    return render(request, "courseware/classroom.html", context)


@require_POST
@login_required
def privacy_toggle(request: HtmxHttpRequest) -> HttpResponse:
    """Hide or show student names on every class page, for this browser session."""
    _instructor_only(request)
    request.session["hide_names"] = request.POST.get("hide") == "1"
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("courseware:teach")
    return redirect(target)


@require_GET
@login_required
def classroom_gradebook(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """One CSV row per student, streamed: a class of 10,000 is never held in memory."""
    classroom = instructor_classroom(request, pk)
    columns = selectors.roster_columns(classroom=classroom)
    roster = selectors.classroom_roster(classroom=classroom, columns=columns)
    total = selectors.course_section_total(course_id=classroom.course_id)
    rows = csv_rows.gradebook_rows(roster=roster, columns=columns, section_total=total)
    return csv_rows.streaming_csv(rows, filename=f"gradebook-{classroom.pk}.csv")


@require_POST
@login_required
def classroom_regenerate_code(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    classroom = instructor_classroom(request, pk)
    services.join_code_regenerate(classroom=classroom)
    messages.success(
        request, f"New join code: {classroom.join_code_display}. The old code no longer works."
    )
    if request.htmx:
        return render(request, "courseware/classroom.html#join-code", {"classroom": classroom})
    return redirect("courseware:classroom", pk=classroom.pk)


@never_cache
@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers, no database touched. Also the benchmarks'
    "minimal Django view": the full middleware stack and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


try:  # the Redis client is there whenever DJANGO_CACHE_URL can name Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    CACHE_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
        RedisConnectionError,
        RedisTimeoutError,
    )
except ImportError:  # pragma: no cover
    CACHE_CONNECTION_ERRORS = ()


# A health check must answer fast: a probe that times out says less than a 503.
HEALTH_CHECK_TIMEOUT = 2.0


def _database_answers() -> bool:
    pool = getattr(connection, "pool", None)  # PostgreSQL with the pool on, else None
    try:
        if pool is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # Straight from the pool with a short wait: through Django the wait for a
            # connection while the database is down is the pool's 10 s timeout.
            pool.open()
            with pool.connection(timeout=HEALTH_CHECK_TIMEOUT) as conn:
                conn.execute("SELECT 1")
    except (DatabaseError, PsycopgError):
        return False
    return True


def _cache_answers() -> bool:
    """The shared cache holds sessions and pages: it must answer too (socket timeout 2 s).
    A per-process cache always answers."""
    try:
        cache.set("healthz", "1", timeout=10)
        return cache.get("healthz") == "1"
    except Exception:  # noqa: BLE001  (any client error means "not answering")
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a query within 2 s and the cache answers, else 503."""
    database, shared_cache = _database_answers(), _cache_answers()
    body = {
        "status": "ok" if database and shared_cache else "unavailable",
        "database": "up" if database else "down",
        "cache": "up" if shared_cache else "down",
    }
    return JsonResponse(body, status=200 if database and shared_cache else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A missing or stale CSRF token: say so plainly (403), nothing was written."""
    return render(request, "registration/csrf_failure.html", {"reason": reason}, status=403)


# While the database cannot be reached (restarting, failing over, out of connections),
# every page fails the same way: say so with a 503 and when to retry, not a bare 500.
DATABASE_UNAVAILABLE_RETRY_AFTER = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 with Retry-After when the error is a lost or refused connection
    to the database or to the shared cache, else the usual 500. Renders static templates
    without a request context (no session, no user): nothing here may need either."""
    error = sys.exception()
    if isinstance(error, (OperationalError, InterfaceError, *CACHE_CONNECTION_ERRORS)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(DATABASE_UNAVAILABLE_RETRY_AFTER)
        # ReplayAfterDisconnectMiddleware retries once (after a pause for the cache).
        response.database_disconnected = not isinstance(error, CACHE_CONNECTION_ERRORS)
        response.cache_disconnected = isinstance(error, CACHE_CONNECTION_ERRORS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
