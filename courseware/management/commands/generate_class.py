import random
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from courseware import services
from courseware.models import Classroom, Course, Enrollment, SectionProgress
from courseware.plugins import app_hooks

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Generate a class of N students with progress, labeling picks and quiz attempts "
        "(for load tests and benchmarks; 10,000 students take well under a minute)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=10_000)
        parser.add_argument("--name", default="Generated class")
        parser.add_argument("--instructor", default="bench_teacher")
        parser.add_argument("--password", default="bench-password-not-secret")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, students, name, instructor, password, seed, **options):
        if students < 1:
            raise CommandError("--students must be at least 1.")
        course = Course.objects.order_by("pk").first()
        if course is None:
            raise CommandError("Load the content first: python manage.py load_content")
        if Classroom.objects.filter(name__iexact=name).exists():
            raise CommandError(f"A class named {name!r} exists already; pick another --name.")
        started = time.perf_counter()
        # Reproducible synthetic data, not a secret.
        rng = random.Random(seed)  # noqa: S311  # nosec B311
        with transaction.atomic():
            teacher, _ = services.instructor_make(username=instructor, password=password)
            classroom = Classroom.objects.create(name=name, course=course)
            classroom.instructors.add(teacher)
            roster = self._students(classroom, students, password)
            self._progress(course, roster, rng)
            for app, populate in app_hooks("demo_populate"):
                if app != "courseware":
                    populate(classroom=classroom, students=roster, rng=rng, stdout=self.stdout)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{name}: {students} students (pk {classroom.pk}) in {elapsed:.1f} s; "
                f"instructor {instructor}, every password {password!r}."
            )
        )

    def _students(self, classroom, count, password):
        user_model = get_user_model()
        hashed = make_password(password)  # hashed once: PBKDF2 per user would take minutes
        prefix = f"c{classroom.pk}s"
        users = user_model.objects.bulk_create(
            (user_model(username=f"{prefix}{n:05d}", password=hashed) for n in range(1, count + 1)),
            batch_size=BATCH,
        )
        now = timezone.now()
        Enrollment.objects.bulk_create(
            (Enrollment(classroom=classroom, student=user, joined_at=now) for user in users),
            batch_size=BATCH,
        )
        return users

    def _progress(self, course, users, rng):
        sections = list(
            course.modules.filter(is_published=True).order_by("number").first().sections.all()
        )
        now = timezone.now()
        rows = []
        for user in users:
            done = rng.randint(0, len(sections))
            rows.extend(
                SectionProgress(
                    user=user,
                    section=section,
                    first_seen_at=now,
                    done_at=now if i < done else None,
                )
                for i, section in enumerate(sections[: min(done + 1, len(sections))])
            )
        SectionProgress.objects.bulk_create(rows, batch_size=BATCH)
