"""A Redis that accepts connections and never answers does not hang a request: the move answers
within seconds, and its e-mail goes out once the broker is back (the sweeper)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from notifications import tasks
from notifications.models import Message
from partnerships.models import Agreement
from tests.conftest import login
from tests.factories import AgreementFactory
from tests.notifications.conftest import MailServer, TcpProxy, Worker, wait_until


class SilentListener:
    """Accepts every connection on `port` and never sends a byte back."""

    def __init__(self, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)  # read nothing, answer nothing

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.held:
            with contextlib.suppress(OSError):
                connection.close()


def test_a_move_answers_within_seconds_while_the_broker_is_silent_and_its_email_arrives_later(
    start_worker: Callable[[], Worker],
    broker_proxy: TcpProxy,
    mail_server: MailServer,
    officer: User,
    partner_officer: User,
    settings: SettingsWrapper,
) -> None:
    start_worker()
    agreement = AgreementFactory.create(initiator=officer.city, partner=partner_officer.city)
    broker_proxy.stop()
    silent = SilentListener(broker_proxy.port)  # the broker's address now accepts and never answers
    try:
        started = time.monotonic()
        response = login(officer).post(f"/agreements/{agreement.pk}/propose/", {"comment": "Shall we?"})
        elapsed = time.monotonic() - started
    finally:
        silent.stop()

    assert response.status_code == 302
    assert elapsed < 10, f"the move took {elapsed:.1f} s against a silent broker"
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PROPOSED
    message = Message.objects.get(recipient=partner_officer)
    assert message.status == Message.Status.QUEUED
    assert mail_server.messages() == []

    broker_proxy.start()
    settings.NOTIFICATIONS_REQUEUE_AFTER = 0
    assert tasks.sweep_outbox()["requeued"] == 1
    arrived = mail_server.wait_for(1)
    wait_until(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SENT, what="the message sent")
    assert [str(mail["To"]) for mail in arrived] == [partner_officer.email]
    assert Client().get("/").status_code == 200
