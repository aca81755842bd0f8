"""Liveness and readiness probes for load balancers and process managers."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from psycopg import Error as PsycopgError
from psycopg_pool import PoolTimeout

from .checks import static_files_problem
from .postgresql.base import checked_connection

# A health check must answer fast: a probe that times out says less than a 503.
HEALTH_CHECK_TIMEOUT = 2.0


@never_cache
@require_safe
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers, no database touched. Also the benchmarks'
    "minimal Django view": the full middleware stack and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


def _database_answers() -> bool:
    pool = getattr(connection, "pool", None)  # PostgreSQL with the pool on, else None
    try:
        if pool is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # Straight from the pool with a short wait: through Django the wait for a
            # connection while the database is down is the pool's 10 s timeout. Dead
            # connections (after pg_terminate_backend or a restart) are dropped at once,
            # not after the pool's backoff (courseware/postgresql/base.py).
            pool.open()
            conn = checked_connection(pool, HEALTH_CHECK_TIMEOUT)
            try:
                conn.execute("SELECT 1")
            finally:
                pool.putconn(conn)
    except (DatabaseError, PsycopgError, PoolTimeout):
        return False
    return True


def _cache_answers() -> bool:
    """A shared cache holds sessions: it must answer too (socket timeout 2 s). Without
    one there is nothing to check."""
    if not settings.SHARED_CACHE:
        return True
    try:
        cache.set("healthz", "1", timeout=10)
        return cache.get("healthz") == "1"
    except Exception:  # noqa: BLE001  (any client error means "not answering")
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a query within 2 s, the shared cache (if one is
    configured) answers, and the static files pages link to can be named; else 503 with
    what is wrong. HEAD answers like GET, without the body."""
    database, shared_cache = _database_answers(), _cache_answers()
    static_problem = static_files_problem()
    healthy = database and shared_cache and not static_problem
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "up" if database else "down",
        "cache": "up" if shared_cache else "down",
        "static": static_problem or "ok",
    }
    return JsonResponse(body, status=200 if healthy else 503)
