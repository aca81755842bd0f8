"""The seams through which the course apps (courseware included) plug into the site.

Each app in settings.COURSE_APPS may define any of these functions, each in the module
named beside it:

- `loader.load_content(*, stdout) -> None`: idempotent content loader (`load_content`).
- `demo.demo_populate(*, classroom, students, rng, stdout) -> None`: demo picks, attempts …
- `panels.overview_panels(*, user, module) -> list[Panel]`: panels for the module overview.
- `panels.roster_columns(*, classroom) -> list[RosterColumn]`: per-student columns for the
  instructor's roster and the gradebook export, each one database expression.
- `panels.class_links(*, classroom) -> list[ClassLink]`: the app's instructor pages for a class.
- `panels.done_by_activity() -> dict[url_name, str]`: sections that only their activity marks
  done (never the pager's "Done" button), with the sentence the pager shows instead.
- `services.roster_changed(*, classroom_ids) -> None`: students joined or left these
  classes (an app keeping per-class figures recounts them).
- `services.attempt_graded(*, attempt) -> None`: a quiz attempt was just graded, inside
  the grading transaction (an app reporting scores elsewhere, e.g. to an LMS, records
  what to send; it sends after the commit, never inside it).

Keeping the list of apps in settings (not import side effects) makes the order explicit,
and looking functions up by name keeps courseware from importing the apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RosterColumn:
    """One per-student figure, computed in the database.

    `expression` is evaluated against the user table (OuterRef("pk") is the student),
    e.g. a Subquery or Exists; it must return one value per student, so that adding
    a column never multiplies rows or adds a query.
    """

    key: str
    label: str
    expression: Any
    kind: str = "number"  # number | bool | datetime


@dataclass(frozen=True)
class ClassLink:
    label: str
    url: str
    description: str = ""


HOOK_MODULES = {
    "load_content": "loader",
    "demo_populate": "demo",
    "overview_panels": "panels",
    "roster_columns": "panels",
    "class_links": "panels",
    "done_by_activity": "panels",
    "roster_changed": "services",
    "attempt_graded": "services",
}


def app_hooks(name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(app, function) for every course app that defines hook `name`, in app order."""
    module_name = HOOK_MODULES[name]
    for app in settings.COURSE_APPS:
        try:
            module = import_module(f"{app}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.{module_name}":
                raise
            continue
        hook = getattr(module, name, None)
        if hook is not None:
            yield app, hook


def done_by_activity_rules() -> dict[str, str]:
    """{section url_name: why the "Done" button is not offered}, from every app."""
    rules: dict[str, str] = {}
    for _, hook in app_hooks("done_by_activity"):
        rules.update(hook())
    return rules
