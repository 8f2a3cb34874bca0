from typing import Any

from django.core.management.base import BaseCommand

from cities.services import load_reference_data


class Command(BaseCommand):
    help = "Create the SCO countries (with status history) and the cooperation topics that are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_reference_data()
        self.stdout.write(
            "Reference data: {countries} countries, {statuses} status entries, {topics} topics created.".format(
                countries=created.get("countries", 0),
                statuses=created.get("statuses", 0),
                topics=created.get("topics", 0),
            )
        )
