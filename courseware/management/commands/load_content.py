from django.core.management.base import BaseCommand

from courseware.plugins import app_hooks


class Command(BaseCommand):
    help = "Load the course content shipped with each app. Safe to run again: it adds what is missing and never overwrites an edit."

    def handle(self, *args, **options):
        for _, load in app_hooks("load_content"):
            load(stdout=self.stdout)
