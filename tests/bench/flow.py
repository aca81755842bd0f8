"""What a simulated student does, and how each write is checked afterwards.

This is the one file to edit when a feature adds pages or writes to the student journey.
Three lists plug into the benchmarks:

- `PAGES`: pages measured alone against the minimal view (`/livez`): in the load benchmark
  every simulated student requests that page and nothing else for a few seconds, so its
  requests/s is directly comparable with `/livez`'s (same threads, same connections, same
  run). The ratio printed is page rps / minimal-view rps (target: at least 0.5).
- `STEPS`: the journey each simulated student repeats during the flow phase (after logging
  in once). A step is a function `(student) -> list[Write]` that makes its requests through
  `student.browser` and returns every write it attempted, saying whether the server
  acknowledged it (2xx, or the redirect a successful form post answers with).
- `RECONCILERS`: for each kind of write, how to read its rows back from the database.
  Every `Write.kind` a step returns needs one (the run refuses unknown kinds).

`make_plan()` runs once in the orchestrating process, with the ORM, before the load starts:
put in `Plan.extra` the ids a step needs (pair ids, question ids …) so that the load
generator never queries the database itself.

Adding the labeling and quiz journey (issue 4 and 5), e.g.:

    def step_six_picks(student: Student) -> list[Write]:
        plan = student.plan
        page = student.browser.get("labeling:session", course=plan.course, module=plan.module)
        writes = []
        for pair_id in plan.extra["pair_ids"]:
            side = student.rng.choice(("left", "right"))
            response = student.browser.post(
                "labeling:pick", {"pair": str(pair_id), "side": side},
                course=plan.course, module=plan.module,
            )
            writes.append(Write("pick", (student.username, pair_id), acknowledged(response), side))
        return writes

    def pick_rows(usernames):
        from labeling.models import Pick
        return [((user, pair), side) for user, pair, side in Pick.objects.filter(
            session__user__username__in=usernames).values_list(
            "session__user__username", "pair_id", "side")]

then append `step_six_picks`, a profile step and a quiz step to STEPS (profile → GET only,
returning []), `Page("labeling:profile", ...)` and `Page("quiz:quiz", ...)` to PAGES, and
`Reconciler("pick", pick_rows)` and `Reconciler("quiz-submit", ...)` to RECONCILERS.

Choosing keys: a key names exactly one row the database may hold. A changed pick is the
same key with a new value (the reconciler then checks the row holds the last acknowledged
side, or that of a later attempt whose answer was lost). If a step starts a new labeling
session or quiz attempt on each pass, put that session's or attempt's id in the key (read
it from `response.location` or `response.body`, or keep it in `student.state`); a quiz
submit is keyed by (username, attempt id) with the submitted answers or None as value.
Steps run in order for one student, concurrently across students; `student.iteration`
counts completed passes through STEPS.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from _client import Browser, Response
from _reconcile import Key, Reconciler, Write


@dataclass(frozen=True)
class Plan:
    """What the students need to know about the content, read once from the database."""

    course: str
    module: str
    sections: tuple[str, ...]  # slugs of the sections served by courseware's own pages
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Student:
    username: str
    password: str
    browser: Browser
    plan: Plan
    rng: random.Random
    iteration: int = 0  # how many times the journey has been completed
    state: dict[str, Any] = field(default_factory=dict)  # free for steps to share


def make_plan() -> Plan:
    from django.urls import resolve

    from courseware.models import Module

    module = Module.objects.select_related("course").get(slug="post-training")
    sections = [
        section.slug
        for section in module.sections.order_by("order")
        if resolve(section.get_absolute_url()).namespace == "courseware"
    ]
    return Plan(course=module.course.slug, module=module.slug, sections=tuple(sections))


def acknowledged(response: Response, redirect_to: str | None = None) -> bool:
    """2xx, or a redirect (to `redirect_to` if given): what a form post answers on success."""
    if 200 <= response.status < 300:
        return True
    if response.status in (302, 303):
        return redirect_to is None or response.location == redirect_to
    return False


# --- logging in (once per student, before anything is measured) ---------------------------


def login(student: Student) -> bool:
    browser = student.browser
    browser.get("login")  # sets the csrftoken cookie
    response = browser.post("login", {"username": student.username, "password": student.password})
    return response.status == 302 and "sessionid" in browser.cookies


# --- pages measured alone against the minimal view -----------------------------------------


@dataclass(frozen=True)
class Page:
    url_name: str
    fetch: Callable[[Student], Response]


def _module_overview(student: Student) -> Response:
    plan = student.plan
    return student.browser.get("courseware:module", course=plan.course, module=plan.module)


def _first_section(student: Student) -> Response:
    plan = student.plan
    return student.browser.get(
        "courseware:section", course=plan.course, module=plan.module, section=plan.sections[0]
    )


PAGES: Sequence[Page] = (
    Page("courseware:module", _module_overview),
    Page("courseware:section", _first_section),
)


# --- the journey ---------------------------------------------------------------------------


def current_section(student: Student) -> str:
    sections = student.plan.sections
    return sections[student.iteration % len(sections)]


def step_module_overview(student: Student) -> list[Write]:
    _module_overview(student)
    return []


def step_read_section(student: Student) -> list[Write]:
    plan = student.plan
    student.browser.get(
        "courseware:section",
        course=plan.course,
        module=plan.module,
        section=current_section(student),
    )
    return []


def step_section_done(student: Student) -> list[Write]:
    """Press "Done": answers with a redirect to the next section (or the module)."""
    plan = student.plan
    section = current_section(student)
    response = student.browser.post(
        "courseware:section-done", course=plan.course, module=plan.module, section=section
    )
    return [Write("section-done", (student.username, section), acknowledged(response))]


Step = Callable[[Student], list[Write]]

STEPS: Sequence[Step] = (step_module_overview, step_read_section, step_section_done)


# --- reading the writes back -----------------------------------------------------------------


def section_done_rows(usernames: Sequence[str]) -> list[tuple[Key, Hashable]]:
    from courseware.models import SectionProgress

    rows = SectionProgress.objects.filter(
        user__username__in=usernames, done_at__isnull=False
    ).values_list("user__username", "section__slug")
    return [((username, slug), None) for username, slug in rows]


RECONCILERS: Sequence[Reconciler] = (Reconciler("section-done", section_done_rows),)
