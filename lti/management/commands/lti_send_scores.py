from django.core.management.base import BaseCommand

from lti import passback


class Command(BaseCommand):
    help = (
        "Send the quiz scores waiting for an LMS (grade passback). Run it every few minutes "
        "(cron or a systemd timer): rows whose platform was down are retried with a growing "
        "delay until it accepts them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            action="store_true",
            help="Also send rows whose next try is not due yet (after an LMS outage ends).",
        )
        parser.add_argument("--limit", type=int, default=None, help="At most this many rows.")

    def handle(self, *args, now, limit, **options):
        report = passback.send_due(ignore_delay=now, limit=limit)
        self.stdout.write(
            f"Scores sent: {report.sent}; to retry later: {report.retry}; "
            f"refused by the LMS: {report.failed}."
        )
