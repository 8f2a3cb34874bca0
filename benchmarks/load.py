"""Load: the portal under gunicorn (2 workers) on PostgreSQL with the full data, 20 users for 60 s.

    .venv/bin/python benchmarks/load.py            # LOAD_DB, LOAD_PORT, LOAD_USERS, LOAD_SECONDS to change

Sets up a scratch database (LOAD_DB, default sco_portal_load: dropped and made anew) with the
real cities and twinnings, the sample practices, the demo accounts and 400 agreements waiting
for Kazakhstan's approval; serves it with gunicorn; then runs locust headless with four kinds
of user:

- a visitor browsing the directory and the practice library (home, city list and search, a
  city, agreements, practices and their search, a practice);
- an API client syncing with its key (cities and agreements page after page, practices by
  their cursor and the feed of what left the library);
- officers drafting and proposing agreements (through the API, with their session);
- a coordinator approving what waits on Kazakhstan.

Prints p50/p95 per endpoint, the error count (0 expected), and the throughput of a list
endpoint relative to a trivial view, the median of 5 interleaved rounds.
"""

from __future__ import annotations

import itertools
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DB = os.environ.get("LOAD_DB", "sco_portal_load")
PORT = int(os.environ.get("LOAD_PORT", "8766"))
USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = os.environ.get("DEMO_PASSWORD", "sco-demo-2026")

ENVIRONMENT = {
    **os.environ,
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "DJANGO_SETTINGS_MODULE": "sco_portal.settings",
    "DEBUG": "false",
    "SECRET_KEY": "load-test-only-" + os.urandom(8).hex(),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "CELERY_BROKER_URL": "memory://",
    "CELERY_RESULT_BACKEND": "",
    "CACHE_URL": "",
    "EMAIL_URL": "dummymail://",
    "LOG_LEVEL": "WARNING",
    # Many users share one address here: the per-address and per-key limits are for the
    # internet, not for a load test from localhost.
    **{f"API_THROTTLE_{scope}": "10000000/minute" for scope in ("VISITOR", "PERSON", "API_KEY", "SEARCH", "EXPORT")},
}

SEED = """
import itertools, random
from accounts.models import User
from cities.models import City
from partnerships.models import Agreement
from rest_framework_api_key.models import APIKey
random.seed(7)
kz = list(City.objects.filter(country__code="KZ").order_by("pk"))
others = list(City.objects.filter(country__code__in=["RU", "CN", "UZ", "KG"]).order_by("pk"))
taken = set(Agreement.objects.values_list("initiator_id", "partner_id"))
pairs = [(a, b) for a, b in itertools.product(kz, others) if (a.pk, b.pk) not in taken and (b.pk, a.pk) not in taken]
random.shuffle(pairs)
Agreement.objects.bulk_create(
    Agreement(initiator=a, partner=b, title=f"{a.name} – {b.name}", status=Agreement.Status.UNDER_REVIEW)
    for a, b in pairs[:400]
)
print("KEY", APIKey.objects.create_key(name="load")[1])
"""


def manage(*arguments: str, **extra: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *arguments], cwd=ROOT, env={**ENVIRONMENT, **extra}, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def set_up() -> str:
    for sql in (f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", f"CREATE DATABASE {DB}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    manage("migrate", "--noinput")
    manage("load_reference_data")
    manage("import_cities")
    manage("import_agreements", "data/sco_twinnings.csv", "--quiet")
    manage("load_sample_practices")
    manage("create_demo_accounts", DEBUG="true")
    manage("collectstatic", "--noinput")
    key = next(line.split()[1] for line in manage("shell", "-c", SEED).splitlines() if line.startswith("KEY "))
    return key


API_KEY = ""
WAITING: list[int] = []
PARTNERS: list[int] = []
PRACTICES: list[int] = []
PARTNER_LOCK = threading.Lock()


class Visitor(HttpUser):
    weight = 8
    wait_time = between(0.2, 1.0)

    @task(3)
    def city_directory(self) -> None:
        self.client.get(f"/cities/?page={random.randint(1, 80)}", name="/cities/?page=N")

    @task(2)
    def city_search(self) -> None:
        self.client.get(f"/cities/?q={random.choice(['alm', 'kaz', 'bish', 'xi', 'sam', 'моск'])}", name="/cities/?q=…")

    @task(2)
    def city_page(self) -> None:
        self.client.get(f"/cities/{random.randint(1, 8000)}/", name="/cities/{id}/")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(2)
    def agreements(self) -> None:
        self.client.get("/agreements/", name="/agreements/")

    @task(2)
    def practice_library(self) -> None:
        self.client.get("/practices/", name="/practices/")

    @task(1)
    def practice_search(self) -> None:
        query = random.choice(["waste", "transport", "water", "отходы", "公共交通"])
        self.client.get(f"/practices/?q={query}", name="/practices/?q=…")

    @task(2)
    def practice_page(self) -> None:
        self.client.get(f"/practices/{random.choice(PRACTICES)}/", name="/practices/{id}/")


class ApiClient(HttpUser):
    weight = 6
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Api-Key {API_KEY}"
        self.page = itertools.cycle(range(1, 82))

    @task(3)
    def sync_cities(self) -> None:
        self.client.get(f"/api/v1/cities/?page_size=100&page={next(self.page)}", name="/api/v1/cities/?page=N")

    @task(1)
    def sync_agreements(self) -> None:
        self.client.get(
            f"/api/v1/agreements/?page_size=100&page={random.randint(1, 4)}", name="/api/v1/agreements/?page=N"
        )

    @task(2)
    def sync_practices(self) -> None:
        """A mirror's sync: every page of the library by its cursor, then what left it since."""
        url: str | None = "/api/v1/practices/?page_size=10"
        while url:
            page = self.client.get(url, name="/api/v1/practices/?cursor=…").json()
            url = page["next"]
        self.client.get("/api/v1/practices/deleted/", name="/api/v1/practices/deleted/")


def log_in(user: HttpUser, username: str) -> None:
    user.client.get("/accounts/login/", name="/accounts/login/")
    token = user.client.cookies.get("csrftoken", "")
    user.client.post(
        "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{BASE}/accounts/login/"},
        name="/accounts/login/ (POST)",
    )
    user.client.headers["X-CSRFToken"] = user.client.cookies.get("csrftoken") or ""
    user.client.headers["Referer"] = f"{BASE}/"


class Officer(HttpUser):
    weight = 4
    wait_time = between(0.5, 1.5)
    officers = itertools.cycle(["officer.samarkand", "officer.kazan", "officer.xian"])
    cities = {"officer.samarkand": 1216265, "officer.kazan": 551487, "officer.xian": 1790630}

    def on_start(self) -> None:
        self.username = next(self.officers)
        log_in(self, self.username)
        found = self.client.get(
            f"/api/v1/cities/?q={self.username.split('.')[1]}&page_size=100", name="/api/v1/cities/?q=…"
        ).json()["results"]
        # The officer's own city by its GeoNames id; a namesake on the page never stands in for it.
        self.city = next(city["id"] for city in found if city["geonameid"] == self.cities[self.username])

    @task
    def draft_and_propose(self) -> None:
        with PARTNER_LOCK:
            partner = PARTNERS.pop() if PARTNERS else None
        if partner is None or partner == self.city:
            return
        created = self.client.post(
            "/api/v1/agreements/",
            json={
                "initiator": self.city,
                "partner": partner,
                "title": "Load test partnership",
                "kind": "friendship_city",
            },
            name="/api/v1/agreements/ (POST)",
        )
        if created.status_code == 201:
            self.client.post(
                f"/api/v1/agreements/{created.json()['id']}/propose/", json={}, name="/api/v1/agreements/{id}/propose/"
            )


class Coordinator(HttpUser):
    weight = 2
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        log_in(self, "coordinator.kz")

    @task(1)
    def inbox(self) -> None:
        self.client.get("/agreements/inbox/", name="/agreements/inbox/")

    @task(2)
    def approve(self) -> None:
        with PARTNER_LOCK:
            pk = WAITING.pop() if WAITING else None
        if pk is not None:
            self.client.post(f"/api/v1/agreements/{pk}/approve/", json={}, name="/api/v1/agreements/{id}/approve/")


def throughput(path: str, seconds: float, threads: int = 4) -> float:
    """Requests per second that `threads` clients get from `path` in `seconds`."""
    done = [0] * threads
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < deadline:
            # B310 asks whether the URL could be file: or another scheme: BASE is http://127.0.0.1.
            with urllib.request.urlopen(BASE + path, timeout=30) as response:  # nosec B310
                response.read()
            done[index] += 1

    workers = [threading.Thread(target=client, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / seconds


def main() -> None:
    global API_KEY
    print(f"Setting up {DB} (full data) ...", flush=True)
    API_KEY = set_up()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "sco_portal.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"],
        cwd=ROOT,
        env=ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(60):
            try:
                # B310: BASE is http://127.0.0.1 (see throughput()).
                urllib.request.urlopen(f"{BASE}/api/v1/", timeout=2).read()  # nosec B310
                break
            except OSError:
                time.sleep(1)
        ids = subprocess.run(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                "from partnerships.models import Agreement; from cities.models import City;"
                "waiting = Agreement.objects.filter(status='under_review', title__contains=' – ');"
                "print(*waiting.values_list('pk', flat=True)[:400]);"
                # Partners the officers' cities have no agreement with yet (an open one would be a 409).
                "officers = City.objects.filter(geonameid__in=[1216265, 551487, 1790630]);"
                "taken = {*Agreement.objects.filter(initiator__in=officers).values_list('partner_id', flat=True),"
                " *Agreement.objects.filter(partner__in=officers).values_list('initiator_id', flat=True)};"
                "print(*City.objects.exclude(country__code='UZ').exclude(pk__in=taken).order_by('?')"
                ".values_list('pk', flat=True)[:3000]);"
                "from practices.models import Practice;"
                "print(*Practice.objects.filter(status='published').values_list('pk', flat=True))",
            ],
            cwd=ROOT,
            env=ENVIRONMENT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        WAITING.extend(int(pk) for pk in ids[-3].split())
        PARTNERS.extend(int(pk) for pk in ids[-2].split())
        PRACTICES.extend(int(pk) for pk in ids[-1].split())

        environment = Environment(user_classes=[Visitor, ApiClient, Officer, Coordinator], host=BASE, events=events)
        runner = environment.create_local_runner()
        runner.start(USERS, spawn_rate=USERS)
        gevent.spawn_later(SECONDS, runner.quit)
        runner.greenlet.join()
        stats = environment.stats

        print(f"\n{USERS} users for {SECONDS} s against gunicorn (2 workers) on PostgreSQL, full data\n")
        print(f"{'endpoint':42} {'method':6} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7}")
        for entry in sorted(stats.entries.values(), key=lambda entry: entry.name):
            print(
                f"{entry.name[:42]:42} {entry.method:6} {entry.num_requests:8d} {entry.num_failures:6d} "
                f"{entry.get_response_time_percentile(0.5):7.0f} {entry.get_response_time_percentile(0.95):7.0f}"
            )
        total = stats.total
        print(
            f"{'total':42} {'':6} {total.num_requests:8d} {total.num_failures:6d} "
            f"{total.get_response_time_percentile(0.5):7.0f} {total.get_response_time_percentile(0.95):7.0f}"
        )
        for error in stats.errors.values():
            print(f"ERROR {error.method} {error.name}: {error.error} ×{error.occurrences}")

        # A list endpoint against a trivial view (the API root: no database), interleaved so
        # that the machine's other load falls on both alike.
        ratios = []
        for _round in range(5):
            listing = throughput("/api/v1/cities/?page_size=50", 3)
            trivial = throughput("/api/v1/", 3)
            ratios.append(listing / trivial)
            print(f"round {_round + 1}: list {listing:.0f} req/s, trivial {trivial:.0f} req/s, ratio {ratios[-1]:.2f}")
        print(f"list/trivial throughput ratio, median of 5 rounds: {statistics.median(ratios):.2f}")
        sys.exit(1 if total.num_failures else 0)
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
