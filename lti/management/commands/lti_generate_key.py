from django.core.management.base import BaseCommand

from lti import services


class Command(BaseCommand):
    help = (
        "Make a new key pair for the tool. The private key is stored and never shown; the "
        "public key is published at the tool's JWKS URL (/lti/jwks/), and the newest key "
        "signs from now on."
    )

    def handle(self, *args, **options):
        key = services.tool_key_create()
        self.stdout.write(self.style.SUCCESS(f"New tool key {key.kid}."))
        self.stdout.write(
            "Its public half is at /lti/jwks/; platforms that fetch the keyset need no "
            "change. The private key is stored only in the database and is not shown."
        )
