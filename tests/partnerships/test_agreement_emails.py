"""Agreement moves raise their e-mails through the notifications outbox (no mocks)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from notifications.models import Message
from partnerships.models import Agreement
from partnerships.services import send_expiry_reminders


def test_proposal_emails_the_partner_officers_in_their_language_with_a_link(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User
) -> None:
    partner_officer.language = "ru"
    partner_officer.save()
    agreement = agreement_in("draft")
    api = APIClient()
    api.force_authenticate(officer)

    api.post(f"/api/v1/agreements/{agreement.pk}/propose/", {}, format="json")
    api.post(f"/api/v1/agreements/{agreement.pk}/propose/", {}, format="json")

    message = Message.objects.get()
    assert (message.recipient, message.event, message.language) == (partner_officer, "agreement_proposed", "ru")
    assert message.action_url.endswith(agreement.get_absolute_url())
    assert any("а" <= char <= "я" for char in message.subject.lower()), message.subject
    assert "Almaty" in message.text_body or "Алматы" in message.text_body


def test_expiry_reminders_go_once_per_officer_however_often_the_task_runs(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User
) -> None:
    today = timezone.localdate()
    agreement_in("active", signed_on=today - datetime.timedelta(days=900), end_date=today + datetime.timedelta(days=60))

    send_expiry_reminders()
    send_expiry_reminders()

    assert sorted(Message.objects.values_list("recipient__username", "event")) == [
        ("officer.almaty", "agreement_expiring_90"),
        ("officer.bishkek", "agreement_expiring_90"),
    ]
