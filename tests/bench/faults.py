"""Fault benchmark: the student journey under load while the stack is being broken.

    .venv/bin/python tests/bench/faults.py                           # 50 students, 60 s
    .venv/bin/python tests/bench/faults.py --students 5 --duration 25    # smoke

During the flow phase (after every student has logged in):
  (a) a gunicorn worker is killed with SIGKILL every 10 s (at 10, 20, … s);
  (b) PostgreSQL backends of the app are terminated (pg_terminate_backend) every 10 s
      (at 5, 15, … s);
  (c) PostgreSQL is restarted once (at 45 % of the duration; `--pg-down S` keeps it
      stopped S seconds first);
  (d) gunicorn is reloaded with SIGHUP once (at 75 %);
  (e) with `--shared-cache`, Redis (the optional shared cache, holding sessions) is
      restarted once (at 60 %) and comes back empty: sessions are read from the database.
A poller asks /healthz every 100 ms. The run prints the failed requests grouped in time
windows next to the fault that preceded them, how long /healthz answered 503, and the
reconciliation: nothing acknowledged may be lost (the exit status says whether it was).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import flow
import psycopg
from _client import Sample
from _harness import HOST, PASSWORD, Stack, bench_stack, http_status, log
from _loadgen import LoadConfig, LoadProcess, PhaseSpec
from _reconcile import reconcile_all
from _stats import endpoint_rows, outcome_label, print_endpoint_table, succeeded

WINDOW_GAP = 1.0  # failures further apart than this start a new window
HEALTH_EVERY = 0.1


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the flow phase started
    label: str
    action: Callable[[], str]


@dataclass(frozen=True)
class Done:
    at: float
    took: float
    label: str
    detail: str


@dataclass(frozen=True)
class Poll:
    started: float
    ended: float
    status: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of faulted load")
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--shared-cache", action="store_true", help="run with Redis as the shared cache"
    )
    parser.add_argument(
        "--pg-down",
        type=float,
        default=0.0,
        help="seconds PostgreSQL stays stopped during its restart (0: a plain restart); "
        "longer than the pool's 10 s timeout shows the 503 path",
    )
    return parser.parse_args(argv)


def schedule(stack: Stack, duration: float, pg_down: float) -> list[Fault]:
    def kill() -> str:
        return f"pid {stack.server.kill_worker()}"

    def terminate() -> str:
        return f"{stack.postgres.terminate_app_backends()} backends"

    def restart() -> str:
        stack.postgres.stop("fast")
        time.sleep(pg_down)
        stack.postgres.start()
        return f"stop -m fast, {pg_down:.0f} s down, start"

    def reload() -> str:
        stack.server.reload()
        return f"SIGHUP to master {stack.server.pid}"

    def restart_redis() -> str:
        stack.redis.restart()
        return "stop, start empty"

    faults = [Fault(t, "SIGKILL a worker", kill) for t in range(10, int(duration), 10)]
    faults += [Fault(t, "terminate backends", terminate) for t in range(5, int(duration), 10)]
    faults += [
        Fault(round(duration * 0.45, 1), "restart PostgreSQL", restart),
        Fault(round(duration * 0.75, 1), "SIGHUP gunicorn", reload),
    ]
    if stack.redis is not None:
        faults.append(Fault(round(duration * 0.6, 1), "restart Redis", restart_redis))
    return sorted(faults, key=lambda fault: fault.at)


def inject(faults: list[Fault], origin: float, done: list[Done], stop: threading.Event) -> None:
    """Fire each fault on time; each runs in its own thread, so a long one (PostgreSQL
    kept down) does not delay the next."""

    def fire(fault: Fault) -> None:
        started = time.monotonic()
        try:
            detail = fault.action()
        except (OSError, RuntimeError, psycopg.Error) as exc:  # e.g. PostgreSQL is down
            detail = f"failed: {exc}"
        done.append(Done(started - origin, time.monotonic() - started, fault.label, detail))
        log(f"fault at {started - origin:5.1f} s: {fault.label} ({detail})")

    fired = []
    for fault in faults:
        if stop.wait(max(0.0, origin + fault.at - time.monotonic())):
            break
        fired.append(threading.Thread(target=fire, args=(fault,)))
        fired[-1].start()
    for thread in fired:
        thread.join()
    done.sort(key=lambda d: d.at)


def poll_health(port: int, polls: list[Poll], stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        status = http_status(port, "/healthz", timeout=15.0)
        polls.append(Poll(started, time.monotonic(), status))
        stop.wait(HEALTH_EVERY)


def status_windows(polls: list[Poll], wanted: int) -> list[tuple[float, float]]:
    """When the latest answer the poller had was `wanted`: from the answer that first said
    so to the next answer that did not (or the last poll)."""
    windows: list[tuple[float, float]] = []
    since: float | None = None
    for poll in sorted(polls, key=lambda p: p.ended):
        if poll.status == wanted and since is None:
            since = poll.ended
        elif poll.status != wanted and since is not None:
            windows.append((since, poll.ended))
            since = None
    if since is not None:
        windows.append((since, polls[-1].ended))
    return windows


def answered(sample: Sample) -> float:
    """When the failure was seen: the fault that caused it happened before this."""
    return sample.started + sample.latency


def failure_windows(samples: list[Sample]) -> list[list[Sample]]:
    failed = sorted((s for s in samples if not succeeded(s)), key=answered)
    windows: list[list[Sample]] = []
    for sample in failed:
        if windows and answered(sample) - answered(windows[-1][-1]) <= WINDOW_GAP:
            windows[-1].append(sample)
        else:
            windows.append([sample])
    return windows


def cause(at: float, done: list[Done]) -> str:
    before = [d for d in done if d.at <= at + 0.05]
    if not before:
        return "no fault before it"
    last = before[-1]
    return f"{at - last.at:.1f} s after {last.label} at {last.at:.1f} s"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with bench_stack(
        students=args.students, workers=args.workers, shared_cache=args.shared_cache
    ) as stack:
        config = LoadConfig(
            host=HOST,
            port=stack.server.port,
            usernames=stack.usernames,
            password=PASSWORD,
            env=stack.env,
            phases=[
                PhaseSpec("login", 120.0, args.students),
                PhaseSpec("flow", args.duration, args.max_requests),
            ],
            cpus=stack.cores.client,
            plan=stack.plan,
        )
        log(f"faults: {stack.cores.describe()}")
        loader = LoadProcess(config)
        stop = threading.Event()
        done: list[Done] = []
        polls: list[Poll] = []
        threads: list[threading.Thread] = []
        try:
            if not loader.flow_started.wait(timeout=180):
                raise RuntimeError("the load generator never reached the flow phase")
            origin = time.monotonic()
            threads = [
                threading.Thread(
                    target=inject,
                    args=(schedule(stack, args.duration, args.pg_down), origin, done, stop),
                ),
                threading.Thread(target=poll_health, args=(stack.server.port, polls, stop)),
            ]
            for thread in threads:
                thread.start()
            result = loader.result()
        finally:
            stop.set()
            loader.stop()
        for thread in threads:
            thread.join()
        recovered = http_status(stack.server.port, "/healthz", timeout=15.0)
        workers = len(stack.server.worker_pids())
        app_errors = stack.server.logged_errors()
        outcomes = reconcile_all(flow.RECONCILERS, result.writes, stack.usernames)

    flow_samples = [s for s in result.samples if s.phase == "flow"]
    print(f"\nlogged in: {result.logged_in} of {args.students} students")
    print_endpoint_table(endpoint_rows(result.samples, result.windows))

    print("\nfaults injected (seconds after the flow phase started):")
    for fault in done:
        print(f"  {fault.at:6.1f} s  {fault.label:<20} took {fault.took:5.2f} s  {fault.detail}")

    failed = sum(not succeeded(s) for s in flow_samples)
    print(
        f"\nfailed requests: {failed} of {len(flow_samples)} (grouped by when they were answered)"
    )
    for window in failure_windows(flow_samples):
        start, end = answered(window[0]) - origin, answered(window[-1]) - origin
        labels = Counter(f"{s.endpoint} {outcome_label(s)}" for s in window)
        print(
            f"  {start:6.1f}–{end:6.1f} s ({end - start:4.1f} s, {cause(start, done)}): "
            + ", ".join(f"{label}×{n}" for label, n in labels.most_common())
        )

    by_status = Counter(p.status for p in polls)
    unavailable = status_windows(polls, 503)
    print(
        f"\n/healthz: {len(polls)} polls, by status {dict(sorted(by_status.items()))}; "
        f"503 for {sum(end - start for start, end in unavailable):.1f} s in total"
    )
    for start, end in unavailable:
        print(f"  503 {start - origin:6.1f}–{end - origin:6.1f} s ({cause(start - origin, done)})")
    slowest = max(polls, key=lambda p: p.ended - p.started, default=None)
    if slowest is not None:
        # A probe waits for a free worker first: while every worker waits on the
        # database, the answer (503 or not) comes late.
        print(
            f"  slowest answer {slowest.ended - slowest.started:.2f} s, asked at "
            f"{slowest.started - origin:.1f} s (status {slowest.status})"
        )
    print(f"after the run: /healthz {recovered}, {workers} of {args.workers} workers up")

    print("\nerrors the app logged (last line of each traceback):")
    for line, count in app_errors.most_common(8):
        print(f"  {count:4}× {line}")

    print("\nreconciliation (acknowledged writes vs database rows):")
    for outcome in outcomes:
        print(f"  {outcome.describe()}")
    passed = all(o.ok for o in outcomes) and recovered == 200 and workers == args.workers
    print("\nPASS: nothing acknowledged was lost" if passed else "\nFAIL: see above")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: the benchmark's PostgreSQL and gunicorn were stopped and removed")
