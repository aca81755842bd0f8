"""Operations findings of the attack run (issue 13, findings 8–12): health after a
database blip, HEAD /healthz, a missing static manifest, Cache-Control on private
responses, one log line per 4xx, gunicorn's default bind."""

from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter with the pool on (the suite runs with it off, as the README
# asks of tests): fill the pool, have PostgreSQL terminate every connection it holds, then
# time the next /healthz, the next page and a HEAD /healthz through Django's test client.
BLIP_SCRIPT = """
import json, time
import django, psycopg
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.db import connection
from django.test import Client

client = Client()
assert client.get("/healthz").status_code == 200
pool = connection.pool
pool.wait(timeout=10)  # min_size connections open
params = connection.settings_dict
with psycopg.connect(host=params["HOST"], port=params["PORT"], user=params["USER"],
                     dbname=params["NAME"], autocommit=True) as admin:
    killed = admin.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
        " WHERE application_name = 'blip-probe'").fetchone()[0]
t0 = time.monotonic()
health = client.get("/healthz")
t1 = time.monotonic()
page = client.get("/")
t2 = time.monotonic()
head = client.head("/healthz")
print(json.dumps({
    "killed": killed,
    "health": [health.status_code, health.json(), t1 - t0],
    "page": [page.status_code, t2 - t1],
    "head": [head.status_code, len(head.content)],
}))
"""


@pytest.mark.django_db
def test_healthz_and_the_next_page_recover_at_once_after_the_database_dropped_every_connection():
    """Guards finding 8: after pg_terminate_backend on the app's pooled connections, the
    next /healthz answered 503 "database down" after 2.0 s (the pool's backoff: 1 s, then
    2 s per dead connection) and the first page took ~3 s. Both must now be well under a
    second. Runs against PostgreSQL with the pool on, in a subprocess."""
    db = settings.DATABASES["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql", "set DATABASE_URL to PostgreSQL"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="courseware.settings",
        DJANGO_TESTING="1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=(
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            "?application_name=blip-probe"
        ),
        DATABASE_POOL="1",
        DATABASE_POOL_MIN="2",
        DATABASE_POOL_MAX="2",
    )
    result = subprocess.run(
        [sys.executable, "-c", BLIP_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["killed"] >= 2, found  # every pooled connection was dropped
    status, body, seconds = found["health"]
    assert (status, body["database"]) == (200, "up"), found
    assert seconds < 0.5, found
    status, seconds = found["page"]
    assert status == 200 and seconds < 1.0, found
    assert found["head"] == [200, 0], found


@pytest.mark.django_db
def test_head_healthz_answers_like_get(client):
    """Guards HEAD /healthz answering 405: load balancers probe with HEAD."""
    get, head = client.get(reverse("healthz")), client.head(reverse("healthz"))
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert client.head(reverse("livez")).status_code == 200


@pytest.fixture
def manifest_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # collectstatic never ran: no manifest here
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }


@pytest.mark.django_db
def test_healthz_says_when_the_static_manifest_is_missing(client, manifest_storage):
    """Guards finding 9: without collectstatic every page was a 500 while /healthz said
    200. It now answers 503 and names the fix."""
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "collectstatic" in response.json()["static"]


def test_deploy_check_says_when_the_static_manifest_is_missing(manifest_storage):
    found = checks.run_checks(include_deployment_checks=True)
    assert any(m.id == "courseware.W001" and "collectstatic" in m.msg for m in found)


@pytest.mark.django_db
def test_healthz_reports_static_ok_when_files_are_there(client):
    assert client.get(reverse("healthz")).json()["static"] == "ok"


@pytest.mark.django_db
def test_every_response_to_a_logged_in_user_is_private_and_not_stored(
    client, content, student, instructor, classroom
):
    """Guards finding 10: learner pages and exports (the gradebook carries emails) sent
    no Cache-Control, so a shared cache could keep them."""
    kwargs = {"course": content.course.slug, "module": content.slug}
    client.force_login(student)
    for url in (
        reverse("courseware:module", kwargs=kwargs),
        reverse("courseware:section", kwargs=kwargs | {"section": "pipeline"}),
        reverse("labeling:export", kwargs=kwargs),
        reverse("courseware:join"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, (url, cache_control)
    client.force_login(instructor)
    for name in ("courseware:gradebook", "labeling:class-preferences-csv"):
        response = client.get(reverse(name, kwargs={"pk": classroom.pk}))
        assert response.status_code == 200, name
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, (name, cache_control)


@pytest.mark.django_db
def test_anonymous_pages_are_not_marked_private(client, content):
    assert "private" not in client.get(reverse("courseware:home")).get("Cache-Control", "")


@pytest.mark.django_db
def test_a_403_logs_one_line_not_a_traceback(client, student, caplog):
    """Guards finding 11: every 403 logged a full traceback at WARNING."""
    client.force_login(student)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("courseware:teach"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    (record,) = records
    assert record.exc_info is None
    formatted = logging.Formatter().format(record)
    assert formatted == "Forbidden (Permission denied): /teach/"


@pytest.mark.django_db
def test_a_500_keeps_its_traceback(client, caplog):
    from unittest import mock

    client.raise_request_exception = False
    with (
        caplog.at_level(logging.ERROR, logger="django.request"),
        mock.patch("courseware.views.render", side_effect=RuntimeError("a bug")),
    ):
        client.get(reverse("courseware:home"))
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None


def test_gunicorn_binds_loopback_unless_told_otherwise(monkeypatch):
    """Guards finding 12: the site trusts X-Forwarded-Proto, so by default it must only
    be reachable through a proxy on the same host."""
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    conf = runpy.run_path(str(ROOT / "courseware" / "gunicorn.conf.py"))
    assert conf["bind"] == "127.0.0.1:8000"
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.5:8000")
    assert runpy.run_path(str(ROOT / "courseware" / "gunicorn.conf.py"))["bind"] == "10.0.0.5:8000"


def test_readme_says_how_to_bind_behind_a_proxy():
    readme = (ROOT / "README.md").read_text()
    assert "GUNICORN_BIND" in readme and "127.0.0.1" in readme
    assert "FORWARDED_ALLOW_IPS" in readme
