"""Django's PostgreSQL backend, taking pooled connections that recover at once.

psycopg_pool's own check (`check=`) sleeps with a growing backoff (1 s, 2 s, …) after
each connection that fails it. After `pg_terminate_backend` or a database restart every
idle connection is dead, so the first request of each worker waited ~3 s and /healthz
gave up (503 "database down") on a healthy server. Here the pool runs without that check
(settings: `"check": None`) and the backend checks each connection it takes: a dead one
is handed back (the pool discards and replaces it) and the next is taken at once, until
a live one or the pool's timeout.
"""

from __future__ import annotations

from time import monotonic

from django.db.backends.postgresql import base
from psycopg import Error as PsycopgError
from psycopg import IsolationLevel
from psycopg_pool import ConnectionPool, PoolTimeout


def checked_connection(pool: ConnectionPool, timeout: float):
    """A live connection from `pool` within `timeout` seconds (PoolTimeout if none).
    The caller gives it back with `pool.putconn`."""
    deadline = monotonic() + timeout
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise PoolTimeout(f"no live connection within {timeout:.2f} s")
        conn = pool.getconn(timeout=remaining)
        try:
            ConnectionPool.check_connection(conn)
        except PsycopgError:
            pool.putconn(conn)  # closed by the failure: the pool drops and replaces it
            continue
        return conn


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        """Django's, for the pooled case, taking a checked connection (psycopg 3 only)."""
        pool = self.pool
        if not pool:
            return super().get_new_connection(conn_params)
        options = self.settings_dict["OPTIONS"]
        self.isolation_level = IsolationLevel(
            options.get("isolation_level", IsolationLevel.READ_COMMITTED)
        )
        pool.open()
        connection = checked_connection(pool, pool.timeout)
        if "isolation_level" in options:
            connection.isolation_level = self.isolation_level
        return connection
