"""First-view benchmark: each learner page as a class sees it for the first time.

    .venv/bin/python tests/bench/first_view.py                       # 1,000 learners
    .venv/bin/python tests/bench/first_view.py --students 200        # smoke

In a real class most views are first views, so this is the number that counts
(DESIGN.md, "Performance targets"). The stack is the production one (load.py's: a
throwaway PostgreSQL, gunicorn with 2 sync workers, no shared cache unless
`--shared-cache`), with N learners in one class, each with a finished labeling session
(made through the app's own services, so each has its stored reward-model fit) and a
signed-in session (a session row made as the login view makes it: the password check is
not part of any page).

The load generator (a second process, on its own core) runs, one after another:

- `warm-up`: every thread requests every page three times as one learner kept for it;

- `minimal before`: every thread requests `/livez` in a closed loop for a few seconds;
- for each page in flow.PAGES, `first <page>`: every learner requests the page exactly
  once, so every request is that learner's first view of it (the first view of a
  section records it: one upsert); then `again <page>`: every learner once more;
- `heaviest <lab>`: 200 learners (`--heaviest`) each request a stepping lab's heaviest URL
  (flow.HEAVIEST: the step cap with the most work per step), reported apart;
- `minimal after`;
- `journey`: 300 of the learners (`--journey`) each walk the whole journey of flow.STEPS
  once, all at once: a realistic mix, reported as p50/p95/p99 per request.

Throughput is successful requests over the phase's wall time. Each page's ratio is its
first-view throughput over the minimal view's (the mean of before and after), measured
side by side in the same run; the targets are at least 0.10 for every page and 0.15 for
the median page. Reported, not enforced; any failed request fails the run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import flow
from _client import Browser, Sample
from _harness import HOST, bench_stack, log
from _loadgen import PhaseWindow
from _stats import endpoint_rows, print_endpoint_table, print_errors

PAGE_TARGET = 0.10
MEDIAN_TARGET = 0.15


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000, help="learners in the class")
    parser.add_argument("--threads", type=int, default=16, help="concurrent client connections")
    parser.add_argument("--minimal-seconds", type=float, default=6.0)
    parser.add_argument(
        "--heaviest", type=int, default=200, help="learners who request each lab's heaviest URL"
    )
    parser.add_argument(
        "--journey", type=int, default=300, help="learners who then walk the whole journey once"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--shared-cache", action="store_true", help="run with Redis as the shared cache"
    )
    return parser.parse_args(argv)


# --- preparing the learners (orchestrator, with the ORM) ------------------------------------


def prepare_learners(usernames: list[str], seed: int = 11) -> dict[str, str]:
    """A finished labeling session for each learner, through the services a learner's
    requests call, and a signed-in session each; returns username -> session key."""
    import random
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    from labeling import services
    from labeling.models import ScreenSide

    rng = random.Random(seed)  # noqa: S311  (simulated picks)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = "courseware.roles.RoleModelBackend"
    assert backend in settings.AUTHENTICATION_BACKENDS, "the login backend moved"
    keys: dict[str, str] = {}
    started = time.perf_counter()
    for user in get_user_model().objects.filter(username__in=usernames).order_by("username"):
        session, _ = services.session_start(user=user, rng=rng)
        for shown in session.shown.order_by("position"):
            side = rng.choice(ScreenSide.values)
            services.pick_record(session=session, pair=shown.pair_id, side=side)
        services.session_finish(session=session)
        signed_in = store()
        signed_in[SESSION_KEY] = str(user.pk)
        signed_in[BACKEND_SESSION_KEY] = backend
        signed_in[HASH_SESSION_KEY] = user.get_session_auth_hash()
        signed_in.create()
        keys[user.username] = signed_in.session_key
    log(
        f"{len(keys)} learners labeled, fitted and signed in ({time.perf_counter() - started:.0f} s)"
    )
    return keys


def queries_per_page(session_key: str, plan: flow.Plan) -> dict[str, tuple[int, int]]:
    """(first view, second view) queries of each page for one learner kept out of the load,
    through Django's test client with the production middleware."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key

    class Fetch:  # what flow's page functions call: browser.get(url_name, **kwargs)
        cookies: dict[str, str] = {}

        @staticmethod
        def get(url_name: str, /, **kwargs: str) -> int:
            from django.urls import reverse

            response = client.get(reverse(url_name, kwargs=kwargs), secure=True)
            assert response.status_code == 200, (url_name, response.status_code)
            return response.status_code

    learner = flow.Student("reserved", "", Fetch(), plan, rng=None)  # type: ignore[arg-type]
    counts = {}
    for page in flow.PAGES:
        views = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                page.fetch(learner)
            views.append(len(captured))
        counts[page.url_name] = (views[0], views[1])
    return counts


def section_pages() -> int:
    """How many of flow.PAGES are sections (their first view records one row each)."""
    from django.urls import resolve

    from courseware.models import Section

    names = {resolve(section.get_absolute_url()).view_name for section in Section.objects.all()}
    names.add("courseware:section")  # flow fetches it with a section's slug
    return sum(1 for page in flow.PAGES if page.url_name in names)


def progress_rows() -> int:
    from courseware.models import SectionProgress

    return SectionProgress.objects.count()


# --- the load generator (second process) ----------------------------------------------------


@dataclass
class Config:
    port: int
    sessions: dict[str, str]
    cookie_name: str
    env: dict[str, str]
    cpus: frozenset[int]
    plan: flow.Plan
    threads: int
    minimal_seconds: float
    journey: int
    warm_key: str
    heaviest: int


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    windows: list[PhaseWindow] = field(default_factory=list)


def _phase(name: str, config: Config, work) -> tuple[PhaseWindow, list[Sample]]:
    browsers = [Browser(HOST, config.port, phase=name) for _ in range(config.threads)]
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(b,), daemon=True) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window = PhaseWindow(name, started, time.monotonic())
    samples = [s for b in browsers for s in b.samples]
    for browser in browsers:
        browser.close()
    return window, samples


def run_load(config: Config) -> Result:
    result = Result()
    learners = list(config.sessions.items())

    def minimal(name: str) -> None:
        deadline = time.monotonic() + config.minimal_seconds

        def work(browser: Browser) -> None:
            while time.monotonic() < deadline:
                browser.get("livez")

        window, samples = _phase(name, config, work)
        result.windows.append(window)
        result.samples.extend(samples)

    def once_each(name: str, page: flow.Page, count: int | None = None) -> None:
        todo: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        for learner in learners[:count]:
            todo.put(learner)

        def work(browser: Browser) -> None:
            while True:
                try:
                    username, key = todo.get_nowait()
                except queue.Empty:
                    return
                # This thread now acts as that learner's browser.
                browser.cookies = {config.cookie_name: key}
                page.fetch(
                    flow.Student(username, "", browser, config.plan, rng=None)  # type: ignore[arg-type]
                )

        window, samples = _phase(name, config, work)
        result.windows.append(window)
        result.samples.extend(samples)

    def journeys(name: str, count: int) -> None:
        """`count` learners each walk the whole journey (flow.STEPS) once, concurrently."""
        todo: queue.SimpleQueue[tuple[int, tuple[str, str]]] = queue.SimpleQueue()
        for index, learner in enumerate(learners[:count]):
            todo.put((index, learner))

        def work(browser: Browser) -> None:
            while True:
                try:
                    index, (username, key) = todo.get_nowait()
                except queue.Empty:
                    return
                browser.cookies = {config.cookie_name: key}
                rng = random.Random(index)  # noqa: S311  (simulated choices)
                student = flow.Student(username, "", browser, config.plan, rng=rng)
                for step in flow.STEPS:
                    step(student)

        window, samples = _phase(name, config, work)
        result.windows.append(window)
        result.samples.extend(samples)

    def warm_up(name: str) -> None:
        """Every thread requests /livez and every page a few times as the warm-up learner
        (whose first views were already recorded): both workers' content caches are
        filled, as on a server that has been up for a minute."""

        def work(browser: Browser) -> None:
            browser.cookies = {config.cookie_name: config.warm_key}
            student = flow.Student("warm-up", "", browser, config.plan, rng=None)  # type: ignore[arg-type]
            for _ in range(3):
                browser.get("livez")
                for page in flow.PAGES:
                    page.fetch(student)

        window, samples = _phase(name, config, work)
        result.windows.append(window)
        result.samples.extend(samples)

    warm_up("warm-up")
    minimal("minimal before")
    for page in flow.PAGES:
        once_each(f"first {page.url_name}", page)
        once_each(f"again {page.url_name}", page)
    for page in flow.HEAVIEST:
        once_each(f"heaviest {page.url_name}", page, count=config.heaviest)
    minimal("minimal after")
    if config.journey:
        journeys("journey", config.journey)
    return result


def _child_main(config: Config, conn: Connection) -> None:
    os.sched_setaffinity(0, config.cpus)
    os.environ.update(config.env)
    import django

    django.setup()  # for reverse() only: this process never opens a database connection
    try:
        conn.send(run_load(config))
    finally:
        conn.close()


def run_in_child(config: Config) -> Result:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(config, sender), daemon=True)
    process.start()
    sender.close()
    try:
        return receiver.recv()
    except EOFError as exc:
        raise RuntimeError("the load generator died without a result") from exc
    finally:
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()


# --- report -------------------------------------------------------------------------------


def print_first_view_ratios(rows: list[dict], queries: dict[str, tuple[int, int]]) -> None:
    by_phase = {row["phase"]: row for row in rows}
    minimals = [by_phase[p]["rps"] for p in ("minimal before", "minimal after") if p in by_phase]
    minimal = sum(minimals) / len(minimals)
    print(
        f"\nfirst views vs the minimal view (GET livez: {minimal:.1f} req/s, the mean of "
        + " and ".join(f"{rps:.1f}" for rps in minimals)
        + " measured before and after the pages)"
    )
    print(
        f"  {'page':<26} {'first req/s':>11} {'ratio':>6} {'again req/s':>11} {'ratio':>6}"
        f" {'queries':>8}"
    )
    ratios = []
    for page in flow.PAGES:
        first = by_phase[f"first {page.url_name}"]["rps"]
        again = by_phase[f"again {page.url_name}"]["rps"]
        ratios.append(first / minimal)
        verdict = "" if first / minimal >= PAGE_TARGET else f"  BELOW {PAGE_TARGET}"
        first_q, again_q = queries[page.url_name]
        print(
            f"  {page.url_name:<26} {first:>11.1f} {first / minimal:>6.3f} "
            f"{again:>11.1f} {again / minimal:>6.3f} {first_q:>4}/{again_q:<3}{verdict}"
        )
    median = statistics.median(ratios)
    print("  (queries: first view / second view, for one learner, session and user included)")
    for page in flow.HEAVIEST:
        row = by_phase.get(f"heaviest {page.url_name}")
        if row:
            print(
                f"  heaviest {page.url_name:<17} {row['rps']:>11.1f} {row['rps'] / minimal:>6.3f}"
                f"  (p50 {row['p50']:.0f} ms; the lab's step cap, once per learner)"
            )
    print(
        f"  lowest first-view ratio {min(ratios):.3f} (target {PAGE_TARGET}), "
        f"median {median:.3f} (target {MEDIAN_TARGET}): "
        + ("targets met" if min(ratios) >= PAGE_TARGET and median >= MEDIAN_TARGET else "MISSED")
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with bench_stack(
        students=args.students, workers=args.workers, shared_cache=args.shared_cache
    ) as stack:
        from django.conf import settings
        from django.db import connections

        sessions = prepare_learners(stack.usernames)
        # One learner warms this process's content caches (as any worker's first request
        # does), a second one is then measured: a learner's first view, not a cold process.
        warm_key = sessions.pop(stack.usernames[-2])
        queries_per_page(warm_key, stack.plan)
        queries = queries_per_page(sessions.pop(stack.usernames[-1]), stack.plan)
        sections = section_pages()
        before = progress_rows()
        connections.close_all()  # hold no connection while the load runs
        log(f"first views: {stack.cores.describe()}, {args.threads} client threads")
        config = Config(
            port=stack.server.port,
            sessions=sessions,
            cookie_name=settings.SESSION_COOKIE_NAME,
            env=stack.env,
            cpus=stack.cores.client,
            plan=stack.plan,
            threads=args.threads,
            minimal_seconds=args.minimal_seconds,
            journey=min(args.journey, len(sessions)),
            warm_key=warm_key,
            heaviest=min(args.heaviest, len(sessions)),
        )
        result = run_in_child(config)
        recorded = progress_rows() - before
        connections.close_all()
    rows = endpoint_rows(result.samples, result.windows)
    print_endpoint_table(rows)
    print_first_view_ratios(rows, queries)
    print(
        f"\nfirst views recorded: {recorded} section-progress rows for "
        f"{args.students - 2} learners x {sections} section pages"
        " (one per learner and section: the first view writes it, the second nothing)"
    )
    errors = print_errors(result.samples)
    passed = errors == 0 and recorded == (args.students - 2) * sections
    print("\nPASS" if passed else "\nFAIL: see errors above")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: the benchmark's PostgreSQL and gunicorn were stopped and removed")
