"""Load benchmark: gunicorn over a private PostgreSQL, driven by simulated students.

    .venv/bin/python tests/bench/load.py                          # 50 students, 60 s
    .venv/bin/python tests/bench/load.py --students 5 --duration 10   # smoke

After every student has logged in once, half of the time is spent on the journey in
flow.STEPS, whose writes are then reconciled against the database, the other half
measuring pages alone (the minimal view /livez first, then each page in flow.PAGES, an
equal slice each, all students in a closed loop) over the data the journey left. Before
each page's slice every student requests it once (the "first" rows), then the slice
measures it requested again; every request renders from the database (first views at
scale: first_view.py). Phases rather than interleaving:
a page's requests/s is only comparable with the minimal view's when each has the
server to itself under the same concurrency; interleaving would tie their counts to the
flow's mix instead of measuring either.
"""

from __future__ import annotations

import argparse
import sys
import time

import flow
from _harness import HOST, PASSWORD, bench_stack, log
from _loadgen import LoadConfig, LoadProcess, LoadResult, PhaseSpec
from _reconcile import Outcome, reconcile_all
from _stats import endpoint_rows, print_endpoint_table, print_errors, print_ratios

LOGIN_SECONDS = 120.0  # PBKDF2 makes each login cost ~0.4 s of server CPU, on purpose


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=50, help="simulated students")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of measured load")
    parser.add_argument(
        "--max-requests", type=int, default=500_000, help="request cap over all timed phases"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2+)")
    parser.add_argument(
        "--shared-cache", action="store_true", help="run with Redis as the shared cache"
    )
    return parser.parse_args(argv)


def load_phases(duration: float, max_requests: int, students: int) -> list[PhaseSpec]:
    # The minimal view before and after the pages: the ratio uses both, so a drift in
    # the machine's speed during the run (other work, vacuum) weighs on both sides.
    measured = ["minimal", *(f"page {page.url_name}" for page in flow.PAGES), "minimal after"]
    slice_seconds = duration / 2 / len(measured)
    share = max_requests / duration
    # The journey first, so that the pages are then measured over what it left behind
    # (an open or finished labeling session, graded attempts), as a learner sees them.
    phases = [
        PhaseSpec("login", LOGIN_SECONDS, students),
        PhaseSpec("flow", duration / 2, int(share * duration / 2)),
    ]
    for name in measured:
        if name.startswith("page "):
            # One request per student first (a first view of a section records it),
            # reported on its own row.
            phases.append(PhaseSpec("first " + name.removeprefix("page "), 30.0, students))
        phases.append(PhaseSpec(name, slice_seconds, int(share * slice_seconds)))
    return phases


def report(result: LoadResult, outcomes: list[Outcome], students: int) -> bool:
    print(f"\nlogged in: {result.logged_in} of {students} students")
    for window in result.windows:
        print(f"  phase {window.name:<26} {window.seconds:6.1f} s")
    rows = endpoint_rows(result.samples, result.windows)
    print_endpoint_table(rows)
    # Reported, not enforced: on a shared machine the ratio says more than a hard gate.
    print_ratios(rows)
    errors = print_errors(result.samples)
    print("\nreconciliation (acknowledged writes vs database rows):")
    for outcome in outcomes:
        print(f"  {outcome.describe()}")
    return all(o.ok for o in outcomes) and errors == 0 and result.logged_in == students


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with bench_stack(
        students=args.students, workers=args.workers, shared_cache=args.shared_cache
    ) as stack:
        log(f"load: {stack.cores.describe()}")
        config = LoadConfig(
            host=HOST,
            port=stack.server.port,
            usernames=stack.usernames,
            password=PASSWORD,
            env=stack.env,
            phases=load_phases(args.duration, args.max_requests, args.students),
            cpus=stack.cores.client,
            plan=stack.plan,
        )
        started = time.monotonic()
        loader = LoadProcess(config)
        try:
            result = loader.result()
        finally:
            loader.stop()
        log(f"load finished in {time.monotonic() - started:.1f} s; reconciling")
        outcomes = reconcile_all(flow.RECONCILERS, result.writes, stack.usernames)
        passed = report(result, outcomes, args.students)
    print("\nPASS" if passed else "\nFAIL: see errors or reconciliation above")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: the benchmark's PostgreSQL and gunicorn were stopped and removed")
