"""Thin views: parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from . import csv_rows, ratelimit, selectors, services
from .catalog import course_catalog
from .forms import JoinForm, SignupForm
from .http import (
    HtmxHttpRequest,
    instructor_classroom,
    instructor_only,
    module_content,
    names_hidden,
    render_page,
    section_context,
)
from .plugins import app_hooks, done_by_activity_rules
from .roles import is_instructor


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "courseware/home.html", {"courses": course_catalog().courses})


@require_GET
@login_required
def resume(request: HtmxHttpRequest) -> HttpResponse:
    """Send a returning learner to the first section they have not finished."""
    if is_instructor(request.user) and not request.user.enrollments.exists():
        return redirect("courseware:teach")
    content = selectors.module_for_user(user=request.user)
    if content is None:
        return redirect("courseware:home")
    outline = selectors.module_outline(content=content, user=request.user)
    section = selectors.resume_section(outline)
    return redirect(section.url if section else content.module.url)


@require_GET
def course_detail(request: HtmxHttpRequest, course: str) -> HttpResponse:
    course_obj = course_catalog().course(course)
    return render(
        request, "courseware/course.html", {"course": course_obj, "modules": course_obj.module_list}
    )


@require_GET
@login_required
def module_detail(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    content = module_content(request, course, module)
    outline = selectors.module_outline(content=content, user=request.user)
    panels = [
        panel
        for _, hook in app_hooks("overview_panels")
        for panel in hook(user=request.user, module=content.module)
    ]
    context = {
        "module": content.module,
        "outline": outline,
        "resume": selectors.resume_section(outline),
        "done_count": sum(entry.done for entry in outline),
        "started": any(entry.seen for entry in outline),
        "panels": panels,
        "next_module": content.next_module,
    }
    return render(request, "courseware/module.html", context)


@require_GET
@login_required
def section_detail(
    request: HtmxHttpRequest, course: str, module: str, section: str
) -> HttpResponse:
    context = section_context(request, course=course, module=module, section=section)
    return render(request, "courseware/section.html", context)


@require_POST
@login_required
def section_done(request: HtmxHttpRequest, course: str, module: str, section: str) -> HttpResponse:
    content = module_content(request, course, module)
    section_obj = content.section(slug=section)
    if reason := done_by_activity_rules().get(section_obj.url_name):
        context = {"section": section_obj, "reason": reason}
        return render(request, "courseware/section_done_refused.html", context, status=409)
    services.progress_mark_done(user=request.user, section=section_obj)
    index = content.sections.index(section_obj)
    following = content.sections[index + 1] if index + 1 < len(content.sections) else None
    return redirect(following.url if following else content.module.url)


@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited(ratelimit.SIGNUP_ADDRESS, ratelimit.SIGNUP_CODE)
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
                login(request, user, backend="courseware.roles.RoleModelBackend")
                messages.success(request, f"Welcome! You have joined {classroom.name}.")
                return redirect("courseware:continue")
        status = 400
    return render(request, "courseware/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@ratelimit.rate_limited(ratelimit.JOIN_ADDRESS, ratelimit.JOIN_ACCOUNT)
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


@require_GET
@login_required
def teach(request: HtmxHttpRequest) -> HttpResponse:
    instructor_only(request)
    classrooms = selectors.classrooms_taught(user=request.user)
    return render(request, "courseware/teach.html", {"classrooms": classrooms})


ROSTER_PAGE_SIZE = 50


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
    return render_page(request, "courseware/classroom.html", context, partial="roster")


@require_POST
@login_required
def privacy_toggle(request: HtmxHttpRequest) -> HttpResponse:
    """Hide or show student names on every class page, for this browser session."""
    instructor_only(request)
    request.session["hide_names"] = request.POST.get("hide") == "1"
    target = request.POST.get("next", "")
    # A path of this site only. redirect() would try a bare word ("0") as a URL name and
    # fail with a 500 (found by tests/test_fuzz.py): redirect to the path as it is.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("courseware:teach")
    return HttpResponseRedirect(target)


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
@vary_on_headers("HX-Request")
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
