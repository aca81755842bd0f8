"""The real stack the benchmarks run against: a throwaway PostgreSQL cluster, the app
prepared with production settings, gunicorn, and CPU pinning.

Nothing here touches the shared PostgreSQL on :5432: every run gets its own cluster in
a temporary directory, on its own port, removed at the end (also on Ctrl-C).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import flow

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HOST = "127.0.0.1"
DB_NAME = "bench"
PASSWORD = "bench-student-password-42"  # noqa: S105  (throwaway accounts in a throwaway cluster)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- CPU pinning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cores:
    """Which CPUs the server side (gunicorn, PostgreSQL) and the load generator use."""

    server: frozenset[int]
    client: frozenset[int]

    @property
    def pinned(self) -> bool:
        return self.server.isdisjoint(self.client)

    def describe(self) -> str:
        if not self.pinned:
            return f"not pinned (only CPUs {sorted(self.server)} available)"
        return f"server (gunicorn + PostgreSQL) on CPU {sorted(self.server)}, load generator on CPU {sorted(self.client)}"


def split_cores() -> Cores:
    """First allowed CPU for the load generator, the rest for the server.

    The orchestrating process pins itself to the server side before it starts anything,
    so PostgreSQL and gunicorn (and the workers gunicorn forks later, after a kill or a
    reload) inherit it.
    """
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return Cores(server=frozenset(available), client=frozenset(available))
    return Cores(server=frozenset(available[1:]), client=frozenset(available[:1]))


# --- processes --------------------------------------------------------------------------


def run(cmd: list[str], *, env: dict[str, str] | None = None, quiet: bool = True) -> None:
    """Run a command to completion; on failure show its output and stop."""
    result = subprocess.run(  # noqa: S603  (fixed argument lists built here, no shell)
        cmd, env=env, cwd=ROOT, capture_output=quiet, text=True, check=False
    )
    if result.returncode != 0:
        if quiet:
            sys.stderr.write(result.stdout + result.stderr)
        raise RuntimeError(f"command failed ({result.returncode}): {' '.join(cmd)}")


def free_port(preferred: int) -> int:
    """`preferred` if nothing listens there, else any free port the OS hands out."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free TCP port")


def http_status(port: int, path: str, *, timeout: float = 2.0) -> int:
    """Status of one plain GET, 0 when nothing answered."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def wait_for(port: int, path: str, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_status(port, path) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{path} on port {port} did not answer 200 within {timeout:.0f} s")


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} not found (install postgresql)")
    return path


class Postgres:
    """A private PostgreSQL cluster: initdb in a temp dir, pg_ctl on 127.0.0.1:<port>."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.data = workdir / "pgdata"
        self.logfile = workdir / "postgres.log"
        self.url = f"postgres://postgres@{HOST}:{port}/{DB_NAME}"

    def _as_owner(self, cmd: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root: run its tools as the `postgres` OS user.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.workdir, user="postgres")
        run(
            self._as_owner(
                [_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
                + ["--encoding=UTF8", "--no-sync", "--no-instructions"]
            )
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={HOST} "
            f"-c unix_socket_directories={self.workdir} -c max_connections=200"
        )
        run(
            self._as_owner(
                [_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile)]
                + ["-o", options, "-w", "-t", "60", "start"]
            )
        )

    def stop(self, mode: str = "fast") -> None:
        run(self._as_owner([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]))

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def terminate_app_backends(self) -> int:
        """pg_terminate_backend on every client connection to the bench database but ours."""
        import psycopg

        with psycopg.connect(
            host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'",
                [DB_NAME],
            ).fetchall()
        return sum(1 for (terminated,) in rows if terminated)


@contextlib.contextmanager
def postgres_cluster(workdir: Path, preferred_port: int = 55432) -> Iterator[Postgres]:
    pg = Postgres(workdir, free_port(preferred_port))
    pg.init()
    pg.start()
    try:
        pg.create_database()
        log(f"PostgreSQL cluster on {HOST}:{pg.port} ({pg.data})")
        yield pg
    finally:
        with contextlib.suppress(RuntimeError):
            pg.stop("immediate")


# --- Redis (the shared cache) -----------------------------------------------------------


class Redis:
    """A private Redis (no persistence, LRU-evicting) for the app's shared cache."""

    def __init__(self, binary: str, workdir: Path, port: int) -> None:
        self.binary, self.port = binary, port
        self.workdir, self.logfile = workdir, workdir / "redis.log"
        self.url = f"redis://{HOST}:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (fixed argument list, no shell)
            [
                self.binary,
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory",
                "512mb",
                "--maxmemory-policy",
                "allkeys-lru",
                "--logfile",
                str(self.logfile),
                "--dir",
                str(self.workdir),
            ],
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.5):
                return
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start (see {self.logfile})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start: it comes back empty, as Redis without persistence does."""
        self.stop()
        self.start()


@contextlib.contextmanager
def redis_server(
    workdir: Path, *, wanted: bool, preferred_port: int = 56379
) -> Iterator[Redis | None]:
    """Yields the running Redis when one is wanted and installed, else None: the app then
    runs as production does without DJANGO_CACHE_URL (sessions in the database)."""
    binary = shutil.which("redis-server")
    if not wanted or binary is None:
        why = "not asked for" if not wanted else "redis-server not found"
        log(f"no shared cache ({why}): sessions in PostgreSQL")
        yield None
        return
    redis = Redis(binary, workdir, free_port(preferred_port))
    try:
        redis.start()
        log(f"Redis on {HOST}:{redis.port} (the app's shared cache)")
        yield redis
    finally:
        redis.stop()


# --- the app ----------------------------------------------------------------------------


def app_env(database_url: str, workdir: Path, cache_url: str | None = None) -> dict[str, str]:
    """Production settings: DEBUG off, a random secret, the pool on, SMTP configured,
    the shared cache when there is one."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "GUNICORN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="courseware.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        DATABASE_POOL="1",
        DJANGO_EMAIL_HOST="localhost",
        PYTHONPATH=str(ROOT),
    )
    if cache_url:
        env["DJANGO_CACHE_URL"] = cache_url
    return env


def manage(env: dict[str, str], *args: str) -> None:
    run([PYTHON, str(ROOT / "manage.py"), *args], env=env)


def prepare_app(env: dict[str, str]) -> None:
    log("migrate, load_content, collectstatic")
    manage(env, "migrate", "--no-input")
    manage(env, "load_content")
    manage(env, "collectstatic", "--no-input")


def django_setup(env: dict[str, str]) -> None:
    """Set up Django in this process over the bench database, without the pool: the
    orchestrator only creates students and reconciles, and must hold no connection
    while faults are injected."""
    os.environ.update(env)
    os.environ["DATABASE_POOL"] = "0"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_students(count: int) -> list[str]:
    """One class, `count` students, one password hash computed once (bulk_create)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from courseware.models import Classroom, Course, Enrollment

    user_model = get_user_model()
    usernames = [f"bench{n:04d}" for n in range(1, count + 1)]
    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        classroom = Classroom.objects.create(
            name="Benchmark class", course=Course.objects.order_by("pk").first()
        )
        users = user_model.objects.bulk_create(
            [
                user_model(username=name, email=f"{name}@example.com", password=password_hash)
                for name in usernames
            ]
        )
        Enrollment.objects.bulk_create(
            [Enrollment(classroom=classroom, student=user) for user in users]
        )
    return usernames


# --- gunicorn ---------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, env: dict[str, str], workdir: Path, port: int, workers: int) -> None:
        self.port = port
        self.workers = workers
        self.errorlog = workdir / "gunicorn.log"
        self.env = {
            **env,
            "GUNICORN_BIND": f"{HOST}:{port}",
            "GUNICORN_WORKERS": str(workers),
            # Production keeps an access log; a file keeps the benchmark's output readable.
            "GUNICORN_ACCESS_LOG": str(workdir / "access.log"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        gunicorn = str(Path(PYTHON).with_name("gunicorn"))
        with self.errorlog.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603  (fixed argument list)
                [gunicorn, "-c", "courseware/gunicorn.conf.py", "courseware.wsgi"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own process group: Ctrl-C reaches us, and we stop gunicorn in order.
                start_new_session=True,
            )
        try:
            wait_for(self.port, "/livez")
        except RuntimeError:
            sys.stderr.write(self.errorlog.read_text()[-3000:])
            raise

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """Children of the gunicorn master, from /proc."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def logged_errors(self) -> Counter[str]:
        """The final line of each traceback the app logged (why requests failed)."""
        pattern = re.compile(r"^[\w.]+(?:Error|Exception|Timeout): .*")
        return Counter(
            line.strip()[:160]
            for line in self.errorlog.read_text(errors="replace").splitlines()
            if pattern.match(line)
        )

    def kill_worker(self) -> int | None:
        pids = self.worker_pids()
        if not pids:
            return None
        victim = secrets.choice(pids)
        os.kill(victim, signal.SIGKILL)
        return victim

    def reload(self) -> None:
        os.kill(self.pid, signal.SIGHUP)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def gunicorn_server(
    env: dict[str, str], workdir: Path, workers: int, preferred_port: int = 58000
) -> Iterator[Gunicorn]:
    server = Gunicorn(env, workdir, free_port(preferred_port), workers)
    try:
        server.start()
        log(f"gunicorn on {HOST}:{server.port}, {workers} sync workers")
        yield server
    finally:
        server.stop()


# --- the whole stack --------------------------------------------------------------------


@dataclass
class Stack:
    cores: Cores
    postgres: Postgres
    server: Gunicorn
    env: dict[str, str]
    usernames: list[str]
    plan: flow.Plan
    redis: Redis | None = None


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def bench_stack(*, students: int, workers: int, shared_cache: bool = False) -> Iterator[Stack]:
    """PostgreSQL + prepared app + gunicorn, torn down in reverse order whatever happens."""
    # SIGTERM takes the same way out as Ctrl-C, so the cluster is always removed.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    from django.db import connections

    cores = split_cores()
    os.sched_setaffinity(0, cores.server)
    workdir = Path(tempfile.mkdtemp(prefix="courseware-bench-"))
    os.chmod(workdir, 0o700)  # noqa: S103  (owned by postgres after init; private)
    try:
        with postgres_cluster(workdir) as pg, redis_server(workdir, wanted=shared_cache) as redis:
            env = app_env(pg.url, workdir, redis.url if redis else None)
            prepare_app(env)
            django_setup(env)
            usernames = create_students(students)
            plan = flow.make_plan()
            # Hold no connection while the load (and the faults) run.
            connections.close_all()
            log(f"{students} students in one class")
            with gunicorn_server(env, workdir, workers) as server:
                yield Stack(cores, pg, server, env, usernames, plan, redis)
    finally:
        if keep := os.environ.get("BENCH_KEEP_LOGS"):
            # For a post-mortem: gunicorn's, the access and PostgreSQL's logs.
            Path(keep).mkdir(parents=True, exist_ok=True)
            for logfile in workdir.glob("*.log"):
                shutil.copy(logfile, keep)
            log(f"logs kept in {keep}")
        shutil.rmtree(workdir, ignore_errors=True)
        log("stack stopped and removed")
