"""Reconciliation: every write the server acknowledged is in the database exactly once.

Flow steps report each write they attempted as a `Write` (acknowledged or not). After the
run, each `Reconciler` reads the rows of its kind for the benchmark's students and
`reconcile()` compares:

- lost: acknowledged, but no row (the one unforgivable outcome);
- duplicated: more than one row for one key;
- orphans: a row for a key no simulated student ever attempted;
- stale: the row's value is not what the last acknowledged write (or a later attempt)
  put there, e.g. a pick changed back by a replayed older request;
- written without acknowledgement: attempted, no 2xx came back, yet the row exists
  (the response was lost after the commit, e.g. a worker killed mid-response). Allowed,
  and the reason writes must be idempotent: a person would press the button again;
- problems: whatever a Reconciler's own `checks` find in the rows (a graded attempt
  without all its answers, a pick whose session is gone …).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

Key = tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class Write:
    """One write a simulated student attempted.

    kind: which Reconciler checks it ("section-done", "pick", "quiz-submit" …).
    key: what identifies its row; start it with the username so students never collide.
    acknowledged: the server answered 2xx (or the redirect a successful form post gives).
    value: what the row should hold (e.g. the side picked), or None when only presence counts.
    """

    kind: str
    key: Key
    acknowledged: bool
    value: Hashable = None


@dataclass(frozen=True)
class Reconciler:
    """`rows(usernames)` returns one (key, value) per database row of this kind belonging
    to those students; keys and values shaped like the steps' `Write`s. `checks(usernames)`,
    if given, returns the invariants those rows break, one readable line each."""

    kind: str
    rows: Callable[[Sequence[str]], list[tuple[Key, Hashable]]]
    checks: Callable[[Sequence[str]], list[str]] | None = None


@dataclass
class Outcome:
    kind: str
    attempted: int = 0
    acknowledged: int = 0
    rows: int = 0
    lost: list[Key] = field(default_factory=list)
    duplicated: list[Key] = field(default_factory=list)
    orphans: list[Key] = field(default_factory=list)
    stale: list[Key] = field(default_factory=list)
    written_unacknowledged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.orphans or self.stale or self.problems)

    def describe(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        text = (
            f"{self.kind}: {verdict} — {self.attempted} attempted writes on "
            f"{self.acknowledged} acknowledged keys, {self.rows} rows; lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, orphans {len(self.orphans)}, "
            f"stale {len(self.stale)}; written though unacknowledged "
            f"{self.written_unacknowledged}"
        )
        for label, keys in (
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("orphans", self.orphans),
            ("stale", self.stale),
        ):
            if keys:
                text += f"\n    {label}, e.g.: {keys[:5]}"
        for problem in self.problems:
            text += f"\n    {problem}"
        return text


def reconcile(kind: str, writes: Sequence[Write], rows: Sequence[tuple[Key, Hashable]]) -> Outcome:
    attempts: dict[Key, list[Write]] = defaultdict(list)
    for write in writes:
        attempts[write.key].append(write)
    counts = Counter(key for key, _ in rows)
    values = dict(rows)
    outcome = Outcome(kind=kind, attempted=len(writes), rows=len(rows))
    for key, tries in attempts.items():
        acked = [i for i, write in enumerate(tries) if write.acknowledged]
        if not acked:
            outcome.written_unacknowledged += key in counts
            continue
        outcome.acknowledged += 1
        if key not in counts:
            outcome.lost.append(key)
            continue
        # The row may hold the last acknowledged value or that of any later attempt
        # (committed but its response lost); anything else is an older write winning.
        allowed = {write.value for write in tries[acked[-1] :]}
        if values[key] not in allowed:
            outcome.stale.append(key)
    outcome.duplicated = [key for key, count in counts.items() if count > 1]
    outcome.orphans = [key for key in counts if key not in attempts]
    return outcome


def reconcile_all(
    reconcilers: Sequence[Reconciler], writes: Sequence[Write], usernames: Sequence[str]
) -> list[Outcome]:
    by_kind: dict[str, list[Write]] = defaultdict(list)
    for write in writes:
        by_kind[write.kind].append(write)
    unknown = set(by_kind) - {r.kind for r in reconcilers}
    if unknown:
        raise RuntimeError(f"writes of kinds no Reconciler checks: {sorted(unknown)}")
    outcomes = []
    for reconciler in reconcilers:
        outcome = reconcile(reconciler.kind, by_kind[reconciler.kind], reconciler.rows(usernames))
        if reconciler.checks is not None:
            outcome.problems = reconciler.checks(usernames)
        outcomes.append(outcome)
    return outcomes
