"""Partner matching: how long the full and the one-city recompute take, and how much memory they need.

Run on PostgreSQL with the directory's cities and the real twinnings:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sco_matching_bench .venv/bin/python benchmarks/matching.py

It migrates that database and loads what is missing (reference data, GeoNames cities,
data/sco_twinnings.csv), then prints:
- the full recompute's compute time (every city scored and ranked, reasons included; no database),
- the full recompute end to end (the Celery chord run in process: loading, blocks, the swap's writes),
- one city's recompute (compute only, and with loading the inputs and writing its rows), then the other
  cities' lists it can change,
- the peak memory of each (NumPy's allocations, traced), and the process's peak resident size;
- the same compute for 100,000 synthetic cities (targets: 60 s, under 4 GiB), by one worker process and by
  two (the Celery group's blocks shared between them, as two workers share them);
- before each part, how fast the machine is just then (two fixed workloads), as the figures depend on it.

`--directory` measures the directory only, `--synthetic` the synthetic cities only.
"""

from __future__ import annotations

import functools
import logging
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYNTHETIC_CITIES = 100_000
REPEATS = 3
MIB = 1024 * 1024


def measure(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds of one call (untraced), then the traced peak MiB of a second call (tracing slows NumPy down)."""
    seconds, result = timed(work)
    tracemalloc.start()
    work()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / MIB, result


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call; prints the CPU seconds too, since the machine may be shared."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds = time.perf_counter() - started
    print(f"  ({seconds:.2f} s wall clock, {time.process_time() - cpu:.2f} s of CPU in this process)")
    return seconds, result


def machine_speed() -> str:
    """Two fixed workloads timed, so that figures from different machines (or from one shared machine at
    different times: seen here, the same figures 50% apart between two sessions) can be set side by side."""
    import numpy as np

    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    loop = time.perf_counter() - started
    matrix = np.random.default_rng(1).random((2000, 2000), dtype=np.float32)
    started = time.perf_counter()
    for _repeat in range(5):
        matrix @ matrix
    product = (time.perf_counter() - started) / 5
    return (
        f"this machine now: 10 million Python additions in {loop:.2f} s, "
        f"a 2,000 x 2,000 float32 matrix product in {product * 1000:.0f} ms"
    )


def synthetic() -> None:
    """The full compute of SYNTHETIC_CITIES cities by one worker, then by two (this machine's cores), as the
    Celery group runs it: each worker process makes the table and computes its share of the blocks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")
    import django

    django.setup()
    print(machine_speed())
    for workers in (1, 2):
        seconds, shares = timed(functools.partial(compute_in_workers, workers))
        print(
            f"{SYNTHETIC_CITIES:,} synthetic cities, compute with {workers} worker{'s' if workers > 1 else ''}: "
            f"{seconds:.1f} s for {sum(count for count, _cpu, _peak in shares)} suggestions "
            f"(CPU per worker: {', '.join(f'{cpu:.0f} s' for _count, cpu, _peak in shares)}); "
            f"peak resident size per worker: {max(peak for _count, _cpu, peak in shares):.0f} MiB"
        )


def compute_in_workers(workers: int) -> list[tuple[int, float, float]]:
    """(suggestions, CPU seconds, peak resident MiB) of each worker process, computing every workers-th block."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.starmap(compute_share, [(worker, workers) for worker in range(workers)])


def compute_share(worker: int, workers: int) -> tuple[int, float, float]:
    cpu = time.process_time()
    count = compute_all(synthetic_table(SYNTHETIC_CITIES), worker, workers)
    # VmHWM, not ru_maxrss: after fork, ru_maxrss still counts the parent's peak.
    status = Path("/proc/self/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    return count, time.process_time() - cpu, peak


def synthetic_table(size: int) -> Any:
    import numpy as np

    from matching.table import CityTable

    rng = np.random.default_rng(1)
    codes = ["BY", "CN", "IN", "IR", "KG", "KZ", "PK", "RU", "TJ", "UZ"]
    edges = rng.integers(0, size, (size // 15, 2))
    edges = np.unique(np.sort(edges[edges[:, 0] != edges[:, 1]], axis=1), axis=0)
    topics = 13
    return CityTable(
        ids=np.arange(1, size + 1, dtype=np.int64),
        country=rng.integers(0, len(codes), size).astype(np.int32),
        country_codes=codes,
        population=rng.lognormal(10.5, 1.1, size) + 15_000,
        latitude=rng.uniform(8, 70, size),
        longitude=rng.uniform(23, 135, size),
        needs=rng.random((size, topics)) < 0.1,
        expertise=rng.random((size, topics)) < 0.1,
        practices=np.where(rng.random((size, topics)) < 0.02, 2, 0).astype(np.int32),
        edges=edges,
        blocked=edges,
        # About as many regions per country as Russia has, and as many seats as the directory has.
        region=rng.integers(0, 80, size),
        feature_codes=rng.choice(["PPL", "PPLA", "PPLA2"], size, p=[0.87, 0.03, 0.10]).tolist(),
    )


def compute_all(table: Any, worker: int = 0, workers: int = 1) -> int:
    """Every city's suggestions, block by block as the full recompute makes them; or, for one of several
    workers, every workers-th block. Returns how many suggestions."""
    import numpy as np

    from matching import services

    topics = list(range(1, table.needs.shape[1] + 1))
    count = 0
    for start, stop in services.block_ranges(len(table))[worker::workers]:
        count += sum(len(ranked) for _city, ranked in services.rank_rows(table, np.arange(start, stop), topics))
    return count


def create_database_if_missing(connection: Any) -> None:
    """On a new machine the benchmark's PostgreSQL database does not exist yet: it is created, empty."""
    if connection.vendor != "postgresql":
        return
    from psycopg2 import sql

    from benchmarks import postgresql_server

    settings = connection.settings_dict
    admin = postgresql_server(settings)
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
                print(f"created the database {settings['NAME']}")
    finally:
        admin.close()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sco_matching_bench")
    os.environ["DEBUG"] = "true"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    # Each eager task's result would be logged at INFO (a line per block of the chord): only the figures are printed.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    import numpy as np
    from django.core.management import call_command
    from django.db import connection

    from cities.models import City
    from matching import services
    from matching.inputs import load_table
    from matching.models import Suggestion
    from matching.services import one_city
    from partnerships.models import Agreement

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(machine_speed())
    create_database_if_missing(connection)
    call_command("migrate", verbosity=0)
    if not City.objects.exists():
        call_command("load_reference_data", verbosity=0)
        call_command("import_cities", verbosity=0)
    if not Agreement.objects.exists():
        call_command("import_agreements", "data/sco_twinnings.csv", quiet=True, verbosity=0)
    print(f"{City.objects.count()} cities, {Agreement.objects.count()} agreements")

    load_seconds, table = timed(load_table)
    compute_all(table)  # warm up NumPy and the caches
    # The machine may be shared: each figure is the median of REPEATS runs.
    seconds, peak, count = measure(lambda: compute_all(table))
    timings = [seconds] + [timed(lambda: compute_all(table))[0] for _repeat in range(REPEATS - 1)]
    print(
        f"full recompute, compute: median {statistics.median(timings):.2f} s of {REPEATS} "
        f"({', '.join(f'{value:.2f}' for value in timings)}) for {count} suggestions "
        f"(loading the inputs: {load_seconds:.2f} s)"
    )
    print(f"  peak NumPy/Python memory: {peak:.0f} MiB")

    timings = []
    for _repeat in range(REPEATS):
        seconds, run = timed(lambda: services.start_full_recompute())
        timings.append(seconds)
    run.refresh_from_db()
    print(
        f"full recompute, end to end (chord in process, {run.block_count} blocks, writes): "
        f"median {statistics.median(timings):.2f} s of {REPEATS} ({', '.join(f'{value:.2f}' for value in timings)}), "
        f"{Suggestion.objects.count()} rows, status {run.status}"
    )

    city = City.objects.get(name="Bishkek", country__code="KG")
    row = np.array([table.position[city.pk]])
    topics = list(range(table.needs.shape[1]))
    timings = []
    for _repeat in range(20):
        started = time.perf_counter()
        services.rank_rows(table, row, topics)
        timings.append(time.perf_counter() - started)
    print(f"one city's recompute, compute: median {statistics.median(timings) * 1000:.1f} ms")
    timings = []
    for _repeat in range(10):
        started = time.perf_counter()
        services.recompute_city(city_id=city.pk)
        timings.append(time.perf_counter() - started)
    print(
        f"one city's recompute, with loading the inputs and writing: median {statistics.median(timings) * 1000:.0f} ms"
    )
    reached = len(one_city.cities_whose_lists_it_may_change(table, table.position[city.pk]))
    timings = []
    for _repeat in range(5):
        started = time.perf_counter()
        written = services.recompute_lists_it_reaches(city_id=city.pk)
        timings.append(time.perf_counter() - started)
    print(
        f"then the other cities' lists it can change (those listing it, those whose k-th score it reaches): "
        f"median {statistics.median(timings) * 1000:.0f} ms for {reached} cities ({written} rows)"
    )

    print(f"process peak resident size so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if "--directory" not in sys.argv[1:]:
        import subprocess

        subprocess.run([sys.executable, __file__, "--synthetic"], check=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--synthetic"]:
        synthetic()
    else:
        main()
