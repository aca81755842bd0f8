"""Benchmark (not a test): an instructor's class pages and exports for a big class.

    .venv/bin/python tests/bench/class_view.py [--students 10000] [--rounds 7]

Builds a throwaway PostgreSQL cluster (as load.py does), the app with production
settings, and one class of N students with progress, six picks each and quiz attempts
(`manage.py generate_class`). Then, in this process, through Django's test client with
the production middleware, interleaved round by round so every page sees the same
machine load, it times:

- student pages (the reward profile and the quiz page of one student), the baseline,
  rendered from the database on every request, as every page is;
- the instructor's class page and every page and export the apps link from it
  (`class_links`: class preferences, quiz analytics, JSONL and CSV exports), and the
  gradebook CSV;

and prints each one's median as a ratio to the student page's median (target: the
class pages within 10x), with each export's peak Python allocation (tracemalloc) while its
streamed body is consumed, next to the size of what it produced.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import app_env, django_setup, log, manage, postgres_cluster, prepare_app


def timed(client, url: str) -> tuple[float, int, int]:
    """Seconds for the whole response (a streamed body is consumed), status, bytes."""
    started = time.perf_counter()
    response = client.get(url, secure=True)
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return time.perf_counter() - started, response.status_code, size


def export_peak(client, url: str) -> tuple[int, int]:
    """Peak traced allocation (bytes) while producing and consuming one export."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = client.get(url, secure=True)
    size = sum(len(chunk) for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="class-bench-") as tmp:
        workdir = Path(tmp)
        with postgres_cluster(workdir) as pg:
            env = app_env(pg.url, workdir)
            prepare_app(env)
            log(f"generate_class --students {args.students}")
            started = time.perf_counter()
            manage(env, "generate_class", "--students", str(args.students), "--name", "Big class")
            log(f"  built in {time.perf_counter() - started:.1f} s")
            django_setup(env)
            # As autovacuum would within a minute of such a load: plans with real row
            # counts (without them PostgreSQL plans these tables as nearly empty).
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            return measure(args)


def measure(args) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from courseware import selectors
    from courseware.models import Classroom
    from labeling.models import LabelingSession

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    classroom = Classroom.objects.get(name="Big class")
    module = {"course": classroom.course.slug, "module": "post-training"}
    teacher = classroom.instructors.get()
    labeler = (
        LabelingSession.objects.filter(user__enrollments__classroom=classroom)
        .finished()
        .values_list("user", flat=True)
        .first()
    )
    student = get_user_model().objects.get(pk=labeler)

    student_client, teacher_client = Client(), Client()
    student_client.force_login(student)
    teacher_client.force_login(teacher)

    student_pages = {
        "student: reward profile": reverse("labeling:profile", kwargs=module),
        "student: quiz": reverse("quiz:quiz", kwargs=module),
    }
    class_pages = {
        "class page (roster)": reverse("courseware:classroom", kwargs={"pk": classroom.pk}),
        "export: gradebook CSV": reverse("courseware:gradebook", kwargs={"pk": classroom.pk}),
    }
    for link in selectors.class_links(classroom=classroom):
        kind = "export" if link.url.endswith((".csv", ".jsonl")) else "class page"
        class_pages[f"{kind}: {link.label}"] = link.url

    timings: dict[str, list[float]] = {name: [] for name in [*student_pages, *class_pages]}
    sizes: dict[str, int] = {}
    log(f"timing {len(timings)} URLs, {args.rounds} rounds, interleaved")
    for name, url in {**student_pages, **class_pages}.items():  # warm caches once
        _, status, _ = timed(teacher_client if name in class_pages else student_client, url)
        if status != 200:
            print(f"{name}: {url} answered {status}", file=sys.stderr)
            return 1
    for _ in range(args.rounds):
        for name, url in student_pages.items():
            timings[name].append(timed(student_client, url)[0])
        for name, url in class_pages.items():
            seconds, _, size = timed(teacher_client, url)
            timings[name].append(seconds)
            sizes[name] = size

    baseline = statistics.median(t for name in student_pages for t in timings[name])
    print()
    print(f"Class of {args.students:,} students; {args.rounds} rounds; medians.")
    print(f"{'URL':44} {'median ms':>10} {'x student page':>15} {'bytes':>12}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:44} {median * 1000:10.1f} {median / baseline:15.2f} {sizes.get(name, 0):12,}")
    print(f"(student page baseline: median of both student pages, {baseline * 1000:.1f} ms)")
    print()
    print("Peak Python allocation while streaming each export (tracemalloc):")
    for name, url in class_pages.items():
        if name.startswith("export"):
            peak, size = export_peak(teacher_client, url)
            print(f"  {name:42} peak {peak / 2**20:7.2f} MiB for {size / 2**20:7.2f} MiB of output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
