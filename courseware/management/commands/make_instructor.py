from django.core.management.base import BaseCommand, CommandError

from courseware import services
from courseware.models import Classroom


class Command(BaseCommand):
    help = "Create an instructor (or promote a user) and optionally put them on a class."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", help="Omit to leave the password unusable (use a reset link)."
        )
        parser.add_argument("--classroom", help="Name of a class this instructor teaches.")

    def handle(self, *args, username, email, password, classroom, **options):
        user, created = services.instructor_make(username=username, email=email, password=password)
        if classroom:
            try:
                room = Classroom.objects.get(name__iexact=classroom)
            except Classroom.DoesNotExist as exc:
                raise CommandError(f"No class is named {classroom!r}.") from exc
            room.instructors.add(user)
        verb = "Created" if created else "Promoted"
        self.stdout.write(self.style.SUCCESS(f"{verb} instructor {user.get_username()}."))
