"""Figures from the samples: requests/s, latency percentiles, ratios, errors."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from _client import Sample
from _loadgen import PhaseWindow

# DESIGN.md: every learner page's first view at least 0.10x /livez (first_view.py measures
# those); load.py's repeat views are held to the same floor.
RATIO_TARGET = 0.10


def succeeded(sample: Sample) -> bool:
    """A GET succeeds with 2xx; a form POST with 2xx or the redirect that follows it."""
    if sample.endpoint.startswith("POST "):
        return 200 <= sample.status < 400
    return 200 <= sample.status < 300


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def outcome_label(sample: Sample) -> str:
    return sample.error or str(sample.status)


def endpoint_rows(samples: Iterable[Sample], windows: Sequence[PhaseWindow]) -> list[dict]:
    seconds = {window.name: window.seconds for window in windows}
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.phase, sample.endpoint].append(sample)
    order = {window.name: i for i, window in enumerate(windows)}
    rows = []
    for (phase, endpoint), group in sorted(groups.items(), key=lambda g: (order[g[0][0]], g[0][1])):
        good = sorted(s.latency for s in group if succeeded(s))
        failed = Counter(outcome_label(s) for s in group if not succeeded(s))
        rows.append(
            {
                "phase": phase,
                "endpoint": endpoint,
                "ok": len(good),
                "rps": len(good) / seconds[phase] if seconds[phase] else math.nan,
                "p50": percentile(good, 50) * 1000,
                "p95": percentile(good, 95) * 1000,
                "p99": percentile(good, 99) * 1000,
                "errors": dict(failed),
            }
        )
    return rows


def print_endpoint_table(rows: Sequence[dict]) -> None:
    print(
        f"\n{'phase':<26} {'endpoint':<32} {'ok':>7} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors"
    )
    for row in rows:
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(row["errors"].items())) or "-"
        print(
            f"{row['phase']:<26} {row['endpoint']:<32} {row['ok']:>7} {row['rps']:>8.1f} "
            f"{row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f}  {errors}"
        )


def print_ratios(rows: Sequence[dict]) -> bool:
    """Each page phase's throughput over the minimal view's. True if all meet the target."""
    minimals = [r["rps"] for r in rows if r["phase"].startswith("minimal") and r["rps"]]
    if not minimals:
        print("\nno minimal-view phase: no ratios")
        return False
    minimal = {"rps": sum(minimals) / len(minimals)}
    measured = ", ".join(f"{rps:.1f}" for rps in minimals)
    print(
        f"\nthroughput vs the minimal view (GET livez: {minimal['rps']:.1f} req/s, "
        f"the mean of {measured} measured before and after the pages)"
    )
    all_met = True
    for row in rows:
        if not row["phase"].startswith("page "):
            continue
        ratio = row["rps"] / minimal["rps"]
        met = ratio >= RATIO_TARGET
        all_met &= met
        verdict = "meets" if met else "BELOW"
        print(
            f"  {row['endpoint']:<32} {row['rps']:>8.1f} req/s  ratio {ratio:.2f}  "
            f"({verdict} the {RATIO_TARGET} target)"
        )
    return all_met


def print_errors(samples: Iterable[Sample]) -> int:
    failures = Counter((s.endpoint, outcome_label(s)) for s in samples if not succeeded(s))
    total = sum(failures.values())
    print(f"\nerrors: {total}")
    for (endpoint, label), count in sorted(failures.items()):
        print(f"  {endpoint:<32} {label:<24} {count}")
    return total
