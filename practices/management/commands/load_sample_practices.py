from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from practices.services import load_sample_practices


class Command(BaseCommand):
    help = "Publish the sample practices (real programmes with their public sources) that are not there yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(Path(settings.BASE_DIR) / "data" / "sample_practices.json"))

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        report = load_sample_practices(path=Path(path))
        for line in report.skipped:
            self.stderr.write(f"skipped: {line}")
        self.stdout.write(f"sample practices: {report.created} created, {report.already_there} already there")
