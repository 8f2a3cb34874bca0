"""Real services for the notification tests: an SMTP server, a Celery worker process, a broker that can vanish.

- `mail_server`: aiosmtpd on a free localhost port, started by the test. It can
  refuse each message's first attempts, or hold sessions open at RCPT so that a
  test can kill the worker in the middle of sending.
- `start_worker`: `celery -A sco_portal worker` as a subprocess with the portal's
  real (non-eager) settings, the test's PostgreSQL database, the configured Redis
  broker and this test process's own queue (see `CELERY_TASK_DEFAULT_QUEUE` in
  sco_portal/test_settings.py), so parallel test processes never share tasks.
- `broker_proxy`: this process publishes through a TCP proxy in front of Redis;
  stopping the proxy makes the broker unreachable for the portal alone, without
  touching the Redis that others use.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from sco_portal.celery import app as celery_app
from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds: generous, since the machine may be busy with other tests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class MailServer:
    """An SMTP server that keeps what it accepts, with the faults a test asks for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[EmailMessage] = []
        self.attempts: Counter[str] = Counter()
        self.refuse_first = 0
        self.refusal = "451 4.3.0 Mailbox busy, try again later"
        self.hold_sessions = 0
        self.held = 0
        self.release = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self.lock:
            hold = self.held < self.hold_sessions
            if hold:
                self.held += 1
        if hold:
            # The worker is now in the middle of sending; the test kills it here.
            deadline = time.monotonic() + WAIT
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        key = str(message["Message-ID"])
        with self.lock:
            self.attempts[key] += 1
            if self.attempts[key] <= self.refuse_first:
                return self.refusal
            self.accepted.append(message)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.accepted)

    def wait_for(self, count: int, *, timeout: float = WAIT) -> list[EmailMessage]:
        wait_until(lambda: len(self.messages()) >= count, timeout=timeout, what=f"{count} e-mails")
        return self.messages()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.controller.start()
    yield server
    server.release.set()
    server.controller.stop()


def redis_url() -> str:
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith("redis://"):
        missing_service(f"the Celery broker is {url!r}, not Redis; set REDIS_URL and CELERY_BROKER_URL")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at {url} does not answer: {error}")
    return url


def purge_queue(queue: str) -> None:
    """Delete this test's queue and its unacknowledged messages from the configured Redis db, nothing else."""
    import json

    import redis

    client = redis.Redis.from_url(redis_url())
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class Worker:
    """One `celery worker` process (prefork, two children) in its own process group."""

    def __init__(self, environment: dict[str, str], queue: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "sco_portal",
                "worker",
                "--queues",
                queue,
                "--hostname",
                f"{queue}-{os.urandom(3).hex()}@%h",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: a kill takes the pool children too
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    @property
    def log(self) -> str:
        return "".join(self.lines[-80:])

    def wait_ready(self) -> None:
        if not self.ready.wait(WAIT):
            self.kill()
            raise AssertionError(f"the Celery worker did not start:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as a crashed machine would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(WAIT)
        self._close()

    def _close(self) -> None:
        self.reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()


def database_url() -> str:
    """The URL of the test database this test runs on, for the worker to share it."""
    if connection.vendor != "postgresql":
        missing_service("PostgreSQL: the worker process must share the test database; set DATABASE_URL")
    config = connection.settings_dict
    credentials = quote(config["USER"] or "", safe="")
    if config["PASSWORD"]:
        credentials += ":" + quote(config["PASSWORD"], safe="")
    host = f"{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(config['NAME'], safe='')}"


# Fast retries for the worker: a first retry after 0.5 s, then 1 s, 2 s...
WORKER_SETTINGS = {
    "NOTIFICATIONS_RETRY_DELAY": "0.5",
    "NOTIFICATIONS_MAX_ATTEMPTS": "4",
}


@pytest.fixture
def start_worker(
    transactional_db: None, mail_server: MailServer, publish_to_broker: str
) -> Iterator[Callable[..., Worker]]:
    """Start real Celery workers on this test's database, broker queue and SMTP server; stopped at the end.

    Depends on `transactional_db`, so the worker sees what the test commits, and
    its teardown (stopping the workers) runs before the tables are flushed.
    """
    queue = str(settings.CELERY_TASK_DEFAULT_QUEUE)
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("PYTEST", "DJANGO"))},
        "DJANGO_SETTINGS_MODULE": "sco_portal.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_url(),
        "CELERY_RESULT_BACKEND": redis_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": mail_server.url,
        "LOG_LEVEL": "WARNING",
        **WORKER_SETTINGS,
    }
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(environment, queue)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    purge_queue(queue)


@pytest.fixture
def publish_to_broker() -> Iterator[str]:
    """This process publishes tasks to the real broker instead of running them in process."""
    url = redis_url()
    celery_app.conf.task_always_eager = False
    yield url
    celery_app.conf.task_always_eager = True


class TcpProxy:
    """Forwards a localhost port to Redis; `stop()` is a broker outage, `start()` its end."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            # shutdown() first: close() alone would not wake the thread blocked in accept(),
            # and the kernel would go on accepting connections.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets = []


def _reset_broker_connections() -> None:
    # Celery keeps its broker connection and producer pools; drop them so the
    # next publish connects to the broker URL now configured.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_proxy(publish_to_broker: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    """This process reaches the broker through a proxy that the test can stop and start."""
    parts = urlsplit(publish_to_broker)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    proxy.start()
    credentials = f"{parts.username or ''}{':' + parts.password if parts.password else ''}"
    credentials = f"{credentials}@" if credentials else ""
    proxied = urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", proxied)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(celery_app.conf, "broker_url", proxied)
    _reset_broker_connections()
    assert celery_app.connection_for_write().port == proxy.port
    yield proxy
    proxy.stop()
    monkeypatch.undo()
    _reset_broker_connections()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def phone(live_server: Any) -> Iterator[Any]:
    """Headless Chromium the size of a phone (Debian's Chromium, driven by Playwright)."""
    import shutil

    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop ran opened their own connection; close it,
        # or PostgreSQL cannot drop the test database.
        connection.close()
        from django.db import connections

        connections.close_all()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
