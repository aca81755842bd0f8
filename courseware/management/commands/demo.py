import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from courseware import services
from courseware.models import Classroom, Course, Enrollment, SectionProgress
from courseware.plugins import app_hooks

DEMO_PASSWORD = "learn-post-training"  # noqa: S105  (printed on purpose: local demo only)
DEMO_CLASS = "Demo class"


class Command(BaseCommand):
    help = "Create demo accounts, a demo class of students with varied progress, and print the logins. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=30)
        parser.add_argument("--seed", type=int, default=3)

    @transaction.atomic
    def handle(self, *args, students, seed, **options):
        course = Course.objects.order_by("pk").first()
        if course is None:
            raise CommandError("Load the content first: python manage.py load_content")
        user_model = get_user_model()
        # Reproducible demo data, not a secret.
        rng = random.Random(seed)  # noqa: S311  # nosec B311

        admin, created = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        teacher, _ = services.instructor_make(
            username="teacher", email="teacher@example.com", password=DEMO_PASSWORD
        )
        classroom, _ = Classroom.objects.get_or_create(name=DEMO_CLASS, course=course)
        classroom.instructors.add(teacher)

        sections = list(
            course.modules.filter(is_published=True).order_by("number").first().sections.all()
        )
        roster = []
        for n in range(1, students + 1):
            student, created = user_model.objects.get_or_create(
                username=f"student{n:02d}", defaults={"email": f"student{n:02d}@example.com"}
            )
            if created:
                student.set_password(DEMO_PASSWORD)
                student.save()
            Enrollment.objects.get_or_create(classroom=classroom, student=student)
            roster.append(student)
            if created and n > 1:  # student01 starts fresh, to try the module from the top
                done = rng.randint(0, len(sections))
                now = timezone.now()
                SectionProgress.objects.bulk_create(
                    [
                        SectionProgress(
                            user=student,
                            section=section,
                            first_seen_at=now,
                            done_at=now if i < done else None,
                        )
                        for i, section in enumerate(sections[: min(done + 1, len(sections))])
                    ],
                    ignore_conflicts=True,
                )

        for app, populate in app_hooks("demo_populate"):
            if app != "courseware":
                populate(classroom=classroom, students=roster, rng=rng, stdout=self.stdout)

        self.stdout.write(
            self.style.SUCCESS("Demo ready. Log in at http://127.0.0.1:8000/accounts/login/ as:")
        )
        self.stdout.write(
            f"  student:    student01 … student{students:02d}  password {DEMO_PASSWORD}"
        )
        self.stdout.write(f"  instructor: teacher                      password {DEMO_PASSWORD}")
        self.stdout.write(f"  admin:      admin                        password {DEMO_PASSWORD}")
        self.stdout.write(f"  new students sign up with join code {classroom.join_code_display}")
