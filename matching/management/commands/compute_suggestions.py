from __future__ import annotations

import sys
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from cities.models import City
from matching import scoring, services
from matching.inputs import load_table, topic_ids


class Command(BaseCommand):
    help = "Compute partner suggestions for every city (in this process, block by block), or for one with --city."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", type=int, help="Only this city (its id).")

    def handle(self, *args: Any, city: int | None = None, **options: Any) -> None:
        if city is not None:
            if not City.objects.filter(pk=city).exists():
                raise CommandError(f"There is no city with id {city}.")
            count = services.recompute_city(city_id=city)
            self.stdout.write(f"{count} suggestions for city {city}.")
            return
        table = load_table()
        topics = topic_ids()
        ranges = services.block_ranges(len(table))
        results: services.BlockResult = []
        # The same blocks and the same writing step as the Celery chord, run here one after the other.
        with tqdm(total=len(table), unit="city", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            for start, stop in ranges:
                results.extend(services.rank_rows(table, np.arange(start, stop), topics))
                bar.update(stop - start)
        with transaction.atomic():
            written = services.write_suggestions(results, replace_all=True)
        self.stdout.write(f"{written} suggestions for {len(table)} cities ({scoring.TOP_K} at most each).")
