"""The load generator: a separate process (pinned to its own core) with one thread per
simulated student, each with its own keep-alive connection and cookies.

Phases run one after another with all students taking part in each:

- "login": every student logs in once (PBKDF2 is slow on purpose; not a page);
- "minimal": every student requests /livez in a closed loop;
- "page <url name>": every student requests that one page in a closed loop;
- "flow": every student repeats flow.STEPS; writes are collected for reconciliation.

Each phase is bounded in time and in requests.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

import flow
from _client import Browser, Sample
from _reconcile import Write


@dataclass(frozen=True)
class PhaseSpec:
    name: str  # "login", "minimal", "page <url name>", "flow"
    seconds: float
    max_requests: int


@dataclass(frozen=True)
class LoadConfig:
    host: str
    port: int
    usernames: list[str]
    password: str
    env: dict[str, str]
    phases: list[PhaseSpec]
    cpus: frozenset[int]
    plan: flow.Plan
    seed: int = 7


@dataclass(frozen=True)
class PhaseWindow:
    name: str
    started: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    windows: list[PhaseWindow] = field(default_factory=list)
    logged_in: int = 0
    cpus: list[int] = field(default_factory=list)


class Budget:
    """A phase's deadline and request budget, shared by its threads. In the flow phase a
    whole step is one unit (a step is never cut in half, so every write it attempted is
    reported); most steps make one to three requests (a replayed pick or submit two)."""

    def __init__(self, limit: int, deadline: float) -> None:
        self._left = limit
        self._deadline = deadline
        self._lock = threading.Lock()

    def take(self) -> bool:
        if time.monotonic() >= self._deadline:
            return False
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


Work = Callable[[flow.Student, Budget], None]


def _run_phase(spec: PhaseSpec, students: list[flow.Student], work: Work) -> PhaseWindow:
    started = time.monotonic()
    budget = Budget(spec.max_requests, started + spec.seconds)
    for student in students:
        student.browser.phase = spec.name
    threads = [
        threading.Thread(target=work, args=(student, budget), daemon=True) for student in students
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return PhaseWindow(spec.name, started, time.monotonic())


def run_load(config: LoadConfig, flow_started: Event | None = None) -> LoadResult:
    rng = random.Random(config.seed)  # reproducible choices, not security
    students = [
        flow.Student(
            username=name,
            password=config.password,
            browser=Browser(config.host, config.port),
            plan=config.plan,
            rng=random.Random(rng.random()),
        )
        for name in config.usernames
    ]
    result = LoadResult(cpus=sorted(os.sched_getaffinity(0)))
    writes_lock = threading.Lock()
    logged_in: list[flow.Student] = []
    pages = {f"page {page.url_name}": page for page in flow.PAGES}

    def do_login(student: flow.Student, budget: Budget) -> None:
        if budget.take() and flow.login(student):
            logged_in.append(student)

    def do_minimal(student: flow.Student, budget: Budget) -> None:
        while budget.take():
            student.browser.get("livez")

    def do_flow(student: flow.Student, budget: Budget) -> None:
        while True:
            for step in flow.STEPS:
                if not budget.take():
                    return
                writes = step(student)
                with writes_lock:
                    result.writes.extend(writes)
            student.iteration += 1

    for spec in config.phases:
        active = students if spec.name == "login" else logged_in
        work: Work
        if spec.name == "login":
            work = do_login
        elif spec.name.startswith("minimal"):
            work = do_minimal
        elif spec.name == "flow":
            work = do_flow
            if flow_started is not None:
                flow_started.set()
        elif spec.name.startswith("first "):
            # Each student's first request for the page after the journey, reported
            # apart from the steady state.
            page = pages["page " + spec.name.removeprefix("first ")]

            def work(student: flow.Student, budget: Budget, page: flow.Page = page) -> None:
                if budget.take():
                    page.fetch(student)

        else:
            page = pages[spec.name]

            def work(student: flow.Student, budget: Budget, page: flow.Page = page) -> None:
                while budget.take():
                    page.fetch(student)

        result.windows.append(_run_phase(spec, active, work))
    result.logged_in = len(logged_in)
    for student in students:
        student.browser.close()
        result.samples.extend(student.browser.samples)
    return result


def _child_main(config: LoadConfig, conn: Connection, flow_started: Event) -> None:
    """Entry point of the load-generating process."""
    os.sched_setaffinity(0, config.cpus)
    os.environ.update(config.env)
    import django

    django.setup()  # for reverse() only: this process never opens a database connection
    try:
        conn.send(run_load(config, flow_started))
    finally:
        conn.close()


class LoadProcess:
    """The load generator as a second process ("spawn": a clean interpreter, no
    inherited Django state or connections from the orchestrator)."""

    def __init__(self, config: LoadConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.flow_started = context.Event()
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child_main, args=(config, sender, self.flow_started), daemon=True
        )
        self._process.start()
        sender.close()

    def result(self) -> LoadResult:
        try:
            result = self._receiver.recv()
        except EOFError as exc:
            raise RuntimeError("the load generator died without a result") from exc
        self._process.join()
        return result

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
