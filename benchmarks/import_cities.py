"""How long `import_cities` takes on an empty database and on a second run (what `make run` repeats).

Run: .venv/bin/python benchmarks/import_cities.py   (uses a throw-away SQLite file)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/benchmark.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")
        import django

        django.setup()
        from django.core.management import call_command

        from cities.models import City
        from cities.services import import_cities, load_reference_data

        call_command("migrate", verbosity=0)
        load_reference_data()
        for label in ("first run (creates)", "second run (no change)"):
            started = time.perf_counter()
            report = import_cities()
            elapsed = time.perf_counter() - started
            print(
                f"{label}: {elapsed:.2f} s, {sum(report.created.values())} created, "
                f"{sum(report.updated.values())} updated, {sum(report.unchanged.values())} unchanged"
            )
        print(f"cities in the database: {City.objects.count()}")


if __name__ == "__main__":
    main()
