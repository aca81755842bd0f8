"""What a simulated student does, and how each write is checked afterwards.

This is the one file to edit when a feature adds pages or writes to the student journey.
Three lists plug into the benchmarks:

- `PAGES`: pages measured alone against the minimal view (`/livez`): in the load benchmark
  every simulated student requests that page and nothing else for a few seconds, so its
  requests/s is directly comparable with `/livez`'s (same threads, same connections, same
  run). The ratio printed is page rps / minimal-view rps (target: at least 0.10, median
  0.15); first_view.py requests each page once per learner, the first views that count.
- `STEPS`: the journey each simulated student repeats during the flow phase (after logging
  in once). A step is a function `(student) -> list[Write]` that makes its requests through
  `student.browser` and returns every write it attempted, saying whether the server
  acknowledged it (2xx, or the redirect a successful form post answers with).
- `RECONCILERS`: for each kind of write, how to read its rows back from the database.
  Every `Write.kind` a step returns needs one (the run refuses unknown kinds).

`make_plan()` runs once in the orchestrating process, with the ORM, before the load starts:
put in `Plan.extra` the ids a step needs (pair ids, question ids …) so that the load
generator never queries the database itself.

The journey (one pass; every pass can repeat):

1. `labeling:session` — resume the open labeling session, or POST `labeling:session-new`
   when the last one is finished; the session id is read from the pick form's action;
2. six POSTs on `labeling:pick` (`pair`, `side`), then `labeling:finish` (→ the profile);
3. `labeling:profile`;
4. `quiz:quiz`, POST `quiz:start` (the attempt id is in the redirect's Location: the open
   attempt, or a new one after a graded one), GET the attempt, POST `quiz:submit` with
   `q1..q5` = the 1-based place of a choice read from the attempt page;
5. the module overview, a reading section and its "Done" button.

`REPLAY_SHARE` of the picks and submits are sent twice in a row (a double click): both
are reported as writes of the same key, and the reconciliation must still find one row.
Besides lost / duplicated / orphaned / stale rows, each Reconciler's `checks` look for
picks without their session, finished sessions without a pick on every pair, graded
attempts without exactly one answer per question, answers without their attempt.

A new step follows the same pattern: a function `(student) -> list[Write]`, its requests
through `student.browser` (URL names and kwargs, as reverse() takes them), the ids it needs
from `plan.extra` or from what the server answered (`response.location`, `response.body`).

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
import re
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
    from labeling.models import PreferencePair

    module = Module.objects.select_related("course").get(slug="post-training")
    sections = [
        section.slug
        for section in module.sections.order_by("order")
        if resolve(section.get_absolute_url()).namespace == "courseware"
    ]
    return Plan(
        course=module.course.slug,
        module=module.slug,
        sections=tuple(sections),
        extra={
            # A new labeling session shows every active pair, in this order.
            "pair_ids": tuple(
                PreferencePair.objects.filter(is_active=True)
                .order_by("order")
                .values_list("pk", flat=True)
            ),
            "questions_per_attempt": module.quiz.questions_per_attempt,
        },
    )


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


def _module_page(url_name: str) -> Callable[[Student], Response]:
    """A page that takes only the course and module (the labeling and quiz pages, the
    teaching pages without a query)."""

    def fetch(student: Student) -> Response:
        plan = student.plan
        return student.browser.get(url_name, course=plan.course, module=plan.module)

    return fetch


def _module_page_query(url_name: str, query: str) -> Callable[[Student], Response]:
    """A module page at a given URL state (the labs keep their whole state in the query)."""

    def fetch(student: Student) -> Response:
        plan = student.plan
        path = student.browser.path(url_name, course=plan.course, module=plan.module)
        return student.browser.request("GET", path + query, endpoint=url_name)

    return fetch


#: Each lab's heaviest request: the most steps a URL may ask for, with the most work per
#: step (PPO's inner steps, GRPO's largest group).
OPTIMISERS_HEAVIEST = "?steps=1000&clip=1&batch=32&dpo_steps=1000"
RLVR_HEAVIEST = "?steps=1000&group=64&k=16"

PAGES: Sequence[Page] = (
    Page("courseware:module", _module_overview),
    Page("courseware:section", _first_section),
    Page("courseware:pretraining", _module_page("courseware:pretraining")),
    Page("courseware:sft", _module_page("courseware:sft")),
    Page("courseware:compare", _module_page("courseware:compare")),
    Page("labeling:session", _module_page("labeling:session")),
    Page("labeling:profile", _module_page("labeling:profile")),
    Page("labeling:policy", _module_page("labeling:policy")),
    Page("labeling:critique", _module_page("labeling:critique")),
    Page("labeling:rlaif", _module_page("labeling:rlaif")),
    Page("quiz:quiz", _module_page("quiz:quiz")),
    Page("courseware:closing", _module_page("courseware:closing")),
    # The over-optimisation lab's one request (every sweep is computed on it).
    Page("labs:overoptimisation", _module_page("labs:overoptimisation")),
    Page("labs:optimisers", _module_page("labs:optimisers")),
    Page("labs:rlvr", _module_page("labs:rlvr")),
)

#: Each stepping lab's heaviest request (the step cap, the largest batch or group): what
#: a learner gets after pressing "x100" ten times. first_view.py reports them apart from
#: the pages' first views.
HEAVIEST: Sequence[Page] = (
    Page("labs:optimisers", _module_page_query("labs:optimisers", OPTIMISERS_HEAVIEST)),
    Page("labs:rlvr", _module_page_query("labs:rlvr", RLVR_HEAVIEST)),
)


# --- the journey ---------------------------------------------------------------------------


Step = Callable[[Student], list[Write]]


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


#: Share of picks and quiz submits sent twice in a row, as a double click would.
REPLAY_SHARE = 0.2
SIDES = ("left", "right")
SESSION_IN_PAGE = re.compile(rb"/label/sessions/(\d+)/pick/")
ATTEMPT_IN_LOCATION = re.compile(r"/quiz/attempts/(\d+)/$")
RADIO = re.compile(rb'<input type="radio" name="q(\d+)"[^>]*value="(\d+)"')


def _sends(student: Student) -> int:
    """How many times to send this form: twice for a share of them (the replay)."""
    return 2 if student.rng.random() < REPLAY_SHARE else 1


def _open_session_id(response: Response) -> str | None:
    match = SESSION_IN_PAGE.search(response.body) if response.status == 200 else None
    return match.group(1).decode() if match else None


def step_labeling_open(student: Student) -> list[Write]:
    """Resume the open labeling session, or start a new one (after finishing the last).

    Session ids come from the pick form's action on the session page: the load
    generator never reads the database.
    """
    plan, browser = student.plan, student.browser
    student.state.pop("session", None)
    page = browser.get("labeling:session", course=plan.course, module=plan.module)
    session = _open_session_id(page)
    if session is None and page.status == 200:
        started = browser.post("labeling:session-new", course=plan.course, module=plan.module)
        if acknowledged(started):
            session = _open_session_id(
                browser.get("labeling:session", course=plan.course, module=plan.module)
            )
    if session is not None:
        student.state["session"] = session
    return []


def _pick_step(index: int) -> Step:
    def step(student: Student) -> list[Write]:
        plan, browser = student.plan, student.browser
        session = student.state.get("session")
        if session is None:  # the session page did not load: nothing to pick on
            return []
        pair_id = plan.extra["pair_ids"][index]
        side = student.rng.choice(SIDES)
        # A successful pick redirects to the session page (the next pair).
        expected = browser.path("labeling:session", course=plan.course, module=plan.module)
        writes = []
        for _ in range(_sends(student)):
            response = browser.post(
                "labeling:pick",
                {"pair": str(pair_id), "side": side},
                course=plan.course,
                module=plan.module,
                session=session,
            )
            key = (student.username, int(session), pair_id)
            writes.append(Write("pick", key, acknowledged(response, expected), side))
        return writes

    step.__name__ = step.__qualname__ = f"step_pick_{index + 1}"
    return step


def step_labeling_finish(student: Student) -> list[Write]:
    """Finish the session: redirects to the profile. Refused (409) while a pick is
    missing, e.g. one lost to a fault; the next pass resumes the same session."""
    plan, browser = student.plan, student.browser
    session = student.state.get("session")
    if session is None:
        return []
    response = browser.post(
        "labeling:finish", course=plan.course, module=plan.module, session=session
    )
    expected = browser.path("labeling:profile", course=plan.course, module=plan.module)
    return [
        Write("session-finish", (student.username, int(session)), acknowledged(response, expected))
    ]


def step_profile(student: Student) -> list[Write]:
    _module_page("labeling:profile")(student)
    return []


def step_quiz_start(student: Student) -> list[Write]:
    """The quiz page, then Start: the open attempt, or a new one after a graded one
    (a retake). The attempt id is read from the redirect's Location."""
    plan, browser = student.plan, student.browser
    student.state.pop("attempt", None)
    browser.get("quiz:quiz", course=plan.course, module=plan.module)
    started = browser.post("quiz:start", course=plan.course, module=plan.module)
    match = ATTEMPT_IN_LOCATION.search(started.location) if started.status in (302, 303) else None
    if match is None:
        return []
    attempt = match.group(1)
    page = browser.get("quiz:attempt", course=plan.course, module=plan.module, pk=attempt)
    choices: dict[str, list[str]] = {}
    for position, index in RADIO.findall(page.body if page.status == 200 else b""):
        choices.setdefault(f"q{position.decode()}", []).append(index.decode())
    if not choices:  # the page did not load: every question has a first choice
        count = plan.extra["questions_per_attempt"]
        choices = {f"q{n}": ["1"] for n in range(1, count + 1)}
    student.state["attempt"] = (attempt, choices)
    return []


def step_quiz_submit(student: Student) -> list[Write]:
    """Answer every question (1-based place of the choice) and submit; a replayed
    submit is redirected to the same result."""
    plan, browser = student.plan, student.browser
    if "attempt" not in student.state:
        return []
    attempt, choices = student.state.pop("attempt")
    answers = {field: student.rng.choice(indexes) for field, indexes in choices.items()}
    value = tuple(sorted(answers.items()))
    expected = browser.path("quiz:result", course=plan.course, module=plan.module, pk=attempt)
    writes = []
    for _ in range(_sends(student)):
        response = browser.post(
            "quiz:submit", answers, course=plan.course, module=plan.module, pk=attempt
        )
        key = (student.username, int(attempt))
        writes.append(Write("quiz-submit", key, acknowledged(response, expected), value))
    return writes


# The journey first (six picks → profile → quiz), then a reading section: with
# 50 students on one server core a pass takes about as long as a short flow phase, and
# the labeling and quiz writes are the ones the reconciliation is about.
STEPS: Sequence[Step] = (
    step_labeling_open,
    *(_pick_step(index) for index in range(6)),
    step_labeling_finish,
    step_profile,
    step_quiz_start,
    step_quiz_submit,
    step_module_overview,
    step_read_section,
    step_section_done,
)


# --- reading the writes back -----------------------------------------------------------------


def section_done_rows(usernames: Sequence[str]) -> list[tuple[Key, Hashable]]:
    from courseware.models import SectionProgress

    # Only the sections this step presses "Done" on: finishing a labeling session, the
    # profile and a passed quiz mark their own sections done (no Write for those).
    rows = SectionProgress.objects.filter(
        user__username__in=usernames,
        done_at__isnull=False,
        section__slug__in=make_plan().sections,
    ).values_list("user__username", "section__slug")
    return [((username, slug), None) for username, slug in rows]


def pick_rows(usernames: Sequence[str]) -> list[tuple[Key, Hashable]]:
    from labeling.models import Pick

    rows = Pick.objects.filter(session__user__username__in=usernames).values_list(
        "session__user__username", "session_id", "pair_id", "chosen_left"
    )
    return [
        ((username, session, pair), "left" if left else "right")
        for username, session, pair, left in rows
    ]


def pick_checks(usernames: Sequence[str]) -> list[str]:
    """No pick without its session (whoever it belongs to), none twice on one pair."""
    from django.db.models import Count, Exists, OuterRef

    from labeling.models import LabelingSession, Pick

    problems = []
    orphans = (
        Pick.objects.annotate(
            has_session=Exists(LabelingSession.objects.filter(pk=OuterRef("session_id")))
        )
        .filter(has_session=False)
        .count()
    )
    if orphans:
        problems.append(f"{orphans} picks whose session is missing")
    doubled = (
        Pick.objects.values("session_id", "pair_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    if doubled:
        problems.append(f"{doubled} (session, pair) with more than one pick")
    return problems


def session_finish_rows(usernames: Sequence[str]) -> list[tuple[Key, Hashable]]:
    from labeling.models import LabelingSession

    rows = LabelingSession.objects.filter(
        user__username__in=usernames, finished_at__isnull=False
    ).values_list("user__username", "pk")
    return [((username, session), None) for username, session in rows]


def session_finish_checks(usernames: Sequence[str]) -> list[str]:
    """A finished session has a pick on every pair it showed."""
    from django.db.models import Count, F

    from labeling.models import LabelingSession

    short = (
        LabelingSession.objects.filter(user__username__in=usernames, finished_at__isnull=False)
        .annotate(n_picks=Count("picks", distinct=True), n_shown=Count("shown", distinct=True))
        .exclude(n_picks=F("n_shown"))
        .count()
    )
    return [f"{short} finished sessions without a pick on every pair"] if short else []


def quiz_submit_rows(usernames: Sequence[str]) -> list[tuple[Key, Hashable]]:
    """One row per graded attempt; its value is the answers as the form sent them
    (`q<position>` → 1-based place of the choice in that attempt's order)."""
    from quiz.models import Answer, Attempt, AttemptQuestion

    attempts = dict(
        Attempt.objects.filter(
            user__username__in=usernames, submitted_at__isnull=False
        ).values_list("pk", "user__username")
    )
    slots = {
        (attempt, question): (position, order)
        for attempt, question, position, order in AttemptQuestion.objects.filter(
            attempt_id__in=attempts
        ).values_list("attempt_id", "question_id", "position", "choice_order")
    }
    answers: dict[int, list[tuple[str, str]]] = {pk: [] for pk in attempts}
    for attempt, question, choice in Answer.objects.filter(attempt_id__in=attempts).values_list(
        "attempt_id", "question_id", "choice_id"
    ):
        position, order = slots.get((attempt, question), (None, []))
        index = order.index(choice) + 1 if choice in order else f"choice {choice}?"
        answers[attempt].append((f"q{position}", str(index)))
    return [
        ((username, attempt), tuple(sorted(answers[attempt])))
        for attempt, username in attempts.items()
    ]


def quiz_submit_checks(usernames: Sequence[str]) -> list[str]:
    """Graded attempts have one answer per question shown (5); no answer without its
    attempt; nothing is answered on an attempt that was not graded."""
    from django.db.models import Count, Exists, F, OuterRef

    from quiz.models import Answer, Attempt

    problems = []
    mine = Attempt.objects.filter(user__username__in=usernames)
    wrong = (
        mine.filter(submitted_at__isnull=False)
        .annotate(n_answers=Count("answers", distinct=True), n_slots=Count("slots", distinct=True))
        .exclude(n_answers=F("n_slots"))
        .count()
    )
    if wrong:
        problems.append(f"{wrong} graded attempts without exactly one answer per question")
    ungraded = mine.filter(submitted_at__isnull=True, answers__isnull=False).distinct().count()
    if ungraded:
        problems.append(f"{ungraded} attempts with answers but no grade")
    orphans = (
        Answer.objects.annotate(
            has_attempt=Exists(Attempt.objects.filter(pk=OuterRef("attempt_id")))
        )
        .filter(has_attempt=False)
        .count()
    )
    if orphans:
        problems.append(f"{orphans} answers whose attempt is missing")
    return problems


RECONCILERS: Sequence[Reconciler] = (
    Reconciler("section-done", section_done_rows),
    Reconciler("pick", pick_rows, pick_checks),
    Reconciler("session-finish", session_finish_rows, session_finish_checks),
    Reconciler("quiz-submit", quiz_submit_rows, quiz_submit_checks),
)
