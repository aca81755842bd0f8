"""System checks the site runs at start-up (and `manage.py check`)."""

from __future__ import annotations

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core import checks

#: Files every page links to (templates/base.html).
PAGE_ASSETS = ("css/site.css", "js/site.js")


def static_files_problem() -> str:
    """ "" when every page's assets can be named, else what is wrong. With the manifest
    storage (production) a missing manifest — `collectstatic` not run — made every page a
    500 while /healthz said 200."""
    try:
        for name in PAGE_ASSETS:
            staticfiles_storage.url(name)
    except ValueError as exc:
        return f"static files are missing ({exc}); run: manage.py collectstatic --no-input"
    return ""


# A deployment check, not a staticfiles one: collectstatic runs the staticfiles checks
# and must not refuse to run because its own output is missing.
@checks.register(deploy=True)
def check_static_manifest(app_configs, **kwargs) -> list[checks.CheckMessage]:
    problem = static_files_problem()
    if problem:
        return [checks.Warning(problem, id="courseware.W001")]
    return []
