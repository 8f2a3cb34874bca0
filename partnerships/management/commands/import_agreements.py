from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from partnerships.services import import_agreements


class Command(BaseCommand):
    help = "Import real, existing partnerships (a twinning CSV with sources) as active agreements."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="e.g. data/sco_twinnings.csv")
        parser.add_argument("--quiet", action="store_true", help="Print the totals only, not each skipped row.")

    def handle(self, *args: Any, path: Path, quiet: bool, **options: Any) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        report = import_agreements(path=path)
        for line, reason in [] if quiet else report.skipped:
            self.stdout.write(f"line {line}: skipped: {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.imported} agreements imported, {report.already_there} already there, "
                f"{len(report.skipped)} rows skipped" + (" (run without --quiet to list them)." if quiet else ".")
            )
        )
