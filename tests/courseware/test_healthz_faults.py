"""What the fault benchmark (tests/bench/faults.py) found, pinned down as tests:

- a pooled connection the server dropped (pg_terminate_backend, a restart) was handed to
  the next request, which failed with a 500: the pool now checks connections on checkout;
- while the database cannot be reached, pages answered a bare 500: they now answer 503
  with Retry-After;
- /healthz waited the pool's full 10 s for a connection while the database was down (so a
  probe timed out rather than seeing 503): it now asks the pool with a 2 s limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.urls import reverse
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter with the pool on (the tests run with it off): check out the
# pool's only connection, have the server kill it, and use the pool again.
DROPPED_CONNECTION_SCRIPT = """
import django, psycopg
django.setup()
from django.db import connection

def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.close()  # back to the pool
    return pid

first = backend_pid()
params = connection.settings_dict
with psycopg.connect(host=params["HOST"], port=params["PORT"], user=params["USER"],
                     dbname=params["NAME"], autocommit=True) as admin:
    admin.execute("SELECT pg_terminate_backend(%s, 5000)", [first])
second = backend_pid()
print("replaced" if second != first else "same")
"""


@pytest.mark.django_db
def test_pool_replaces_a_connection_the_server_dropped():
    db = settings.DATABASES["default"]
    # The suite runs against PostgreSQL (README); on anything else this must fail, not skip.
    assert db["ENGINE"] == "django.db.backends.postgresql", "set DATABASE_URL to PostgreSQL"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="courseware.settings",
        DJANGO_TESTING="1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DATABASE_POOL="1",
        DATABASE_POOL_MIN="1",
        DATABASE_POOL_MAX="1",
    )
    result = subprocess.run(
        [sys.executable, "-c", DROPPED_CONNECTION_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "replaced"


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_page_answers_503_with_retry_after_while_the_database_is_unreachable(client, error):
    client.raise_request_exception = False
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=error("server closed")
    ):
        response = client.get(reverse("courseware:home"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again in a few seconds" in response.text


@pytest.mark.django_db
def test_other_server_errors_still_answer_500(client):
    client.raise_request_exception = False
    with mock.patch("courseware.views.render", side_effect=RuntimeError("a bug")):
        response = client.get(reverse("courseware:home"))
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in response.text


def _with_pool(pool: mock.MagicMock):
    return mock.patch.object(
        type(connections["default"]), "pool", new_callable=mock.PropertyMock, return_value=pool
    )


@pytest.mark.django_db
def test_healthz_asks_the_pool_with_a_short_timeout_and_answers_503_when_it_times_out(client):
    pool = mock.MagicMock()
    pool.getconn.side_effect = PoolTimeout("couldn't get a connection after 2.00 sec")
    with _with_pool(pool):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    (call,) = pool.getconn.call_args_list
    assert 0 < call.kwargs["timeout"] <= 2.0


@pytest.mark.django_db
def test_healthz_is_200_when_the_pool_hands_out_a_working_connection(client):
    pool = mock.MagicMock()
    with _with_pool(pool):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    conn = pool.getconn.return_value
    conn.execute.assert_called_with("SELECT 1")
    pool.putconn.assert_called_once_with(conn)  # given back


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379."),
    ],
    ids=["database", "cache"],
)
def test_a_request_whose_connection_dropped_answers_503_once_and_is_not_run_again(
    student, content, error
):
    from django.test import Client

    student_client = Client(raise_request_exception=False)
    student_client.force_login(student)
    calls = []

    def down(**kwargs):
        calls.append(1)
        raise error

    with mock.patch("courseware.views.selectors.module_outline", side_effect=down):
        response = student_client.get(content.get_absolute_url())
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert len(calls) == 1  # no middleware runs a request twice
