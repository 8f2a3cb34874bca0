from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import create_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts listed in README.md (DEBUG only); existing accounts are left alone."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts are created only when DEBUG is on.")
        created = create_demo_accounts(password=settings.DEMO_PASSWORD)
        self.stdout.write(f"Demo accounts: {len(created)} created" + (f" ({', '.join(created)})." if created else "."))
