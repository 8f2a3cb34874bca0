from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cities.models import City
from matching import scoring, services
from matching.inputs import load_table


class Command(BaseCommand):
    help = (
        "Compute partner suggestions for every city (in this process, block by block), or for one with --city "
        "(and the other cities whose lists it can change)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", type=int, help="Only this city (its id).")

    def handle(self, *args: Any, city: int | None = None, **options: Any) -> None:
        if city is not None:
            if not City.objects.filter(pk=city).exists():
                raise CommandError(f"There is no city with id {city}.")
            services.take_claim(city_id=city)  # a change's task waiting for it would do the same again
            count = services.recompute_city(city_id=city)
            others = services.recompute_lists_it_reaches(city_id=city)
            self.stdout.write(
                f"{count} suggestions for city {city}; {others} for the other cities whose lists it can change."
            )
            return
        table = load_table()
        # The same blocks, staging and swap as the Celery chord, run here one after the other (a run that
        # staff see on the recompute page like any other).
        run = services.create_run()
        try:
            with tqdm(total=len(table), unit="city", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
                for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
                    services.compute_block(run_id=run.pk, number=number, start=start, stop=stop, table=table)
                    bar.update(stop - start)
            written = services.swap_suggestions(run_id=run.pk)
        except BaseException as error:  # Ctrl-C too: the run is closed, not left open for staff to wait on
            services.fail_run(run_id=run.pk, error=f"compute_suggestions: {type(error).__name__}: {error}")
            raise
        services.vacuum_suggestions()
        self.stdout.write(f"{written} suggestions for {len(table)} cities ({scoring.TOP_K} at most each).")
