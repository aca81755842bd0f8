"""Benchmark (not a test): the pre-training demo against a trivial page, and the model's cost.

Run from the repository root:

    .venv/bin/python tests/bench/bench_ngram.py [--rounds 200]

In one process it measures
1. the n-gram model's build time (the real, cached `build_default_model()`) and the
   process's resident-memory growth, then the peak of Python/numpy allocations during a
   second build under tracemalloc;
2. through Django's test client over an in-memory SQLite database (the settings' own
   middleware, templates and session handling), interleaved request by request so both
   see the same machine load: a trivial page (`/healthz`, one SELECT) and the next-token,
   scoring and sampling demos of the pre-training page, as a logged-in student.
It prints medians, p90s and the ratio of each demo to the trivial page.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.setdefault("DJANGO_TESTING", "1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def measure_model() -> None:
    from courseware import ngram

    before = rss_mb()
    start = time.perf_counter()
    ngram.build_default_model()
    built = time.perf_counter() - start
    grown = rss_mb() - before
    start = time.perf_counter()
    ngram.build_default_model()
    cached = time.perf_counter() - start

    tracemalloc.start()
    model = ngram.train(ngram.load_corpus_sentences())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("n-gram model (word trigram, Kneser-Ney, KJV corpus)")
    print(f"  vocabulary {model.vocab_size:,} tokens, trained on {model.n_tokens:,} tokens")
    print(f"  build time (first call of build_default_model): {built:.2f} s")
    print(f"  second call (cached per process):                {cached * 1e6:.1f} µs")
    print(f"  peak traced allocations while building:          {peak / 2**20:.0f} MiB")
    print(f"  peak resident memory growth of the process:      {grown:.0f} MiB")


def measure_pages(rounds: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from courseware.models import Enrollment
    from courseware.plugins import app_hooks

    setup_test_environment()
    call_command("migrate", verbosity=0)
    for _, load in app_hooks("load_content"):
        load(stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    from courseware.models import Classroom, Course

    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    room = Classroom.objects.create(name="Bench", course=Course.objects.get())
    Enrollment.objects.create(classroom=room, student=user)
    client = Client()
    client.force_login(user)

    demo = reverse(
        "courseware:pretraining", kwargs={"course": "language-models", "module": "post-training"}
    )
    pages = {
        "trivial page (/healthz)": ("/healthz", {}),
        "pre-training page, no query": (demo, {}),
        "next-token demo (top 10)": (demo, {"phrase": "and the lord"}),
        "scoring demo (12 words)": (
            demo,
            {"sentence": "In the beginning God created the heaven and the earth and it was good"},
        ),
        "sampling demo (30 tokens)": (
            demo,
            {"start": "and god said", "temperature": "0.8", "seed": "1"},
        ),
    }
    for path, query in pages.values():  # warm-up: templates, URL resolver, model
        assert client.get(path, query).status_code == 200
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(rounds):
        for name, (path, query) in pages.items():
            start = time.perf_counter()
            response = client.get(path, query)
            timings[name].append(time.perf_counter() - start)
            assert response.status_code == 200
    base = statistics.median(timings["trivial page (/healthz)"])
    print(
        f"\nResponse times over {rounds} interleaved rounds (Django test client, SQLite in memory)"
    )
    print(f"  {'page':<30} {'median':>9} {'p90':>9} {'ratio':>7}")
    for name, values in timings.items():
        values.sort()
        median = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        print(f"  {name:<30} {median * 1e3:>7.2f}ms {p90 * 1e3:>7.2f}ms {median / base:>6.1f}×")
    print(
        "\nEvery pre-training page also renders the module layout (session, outline, progress"
        "\nupsert): compare the demos with 'no query' to see what the model itself costs."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    measure_model()
    measure_pages(args.rounds)


if __name__ == "__main__":
    main()
