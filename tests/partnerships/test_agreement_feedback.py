"""What officers and coordinators see after they act: ending moves confirmed and announced,
approvals that say what is missing, repeats that say "already done", no dead-end proposals,
dormant partnerships that ask for an activity."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.sites import site
from django.test import Client, RequestFactory
from django.utils.formats import date_format
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from notifications.models import Message
from partnerships import services
from partnerships.admin import AgreementAdmin
from partnerships.models import Agreement
from partnerships.services import remind_dormant_agreements
from tests.conftest import field_error, login
from tests.factories import AgreementFactory, CityFactory, days_from_today


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# -- ending an agreement ----------------------------------------------------------


def test_ending_moves_come_last_as_links_to_a_confirmation_page(
    agreement_in: Callable[..., Agreement], officer: User
) -> None:
    agreement = agreement_in("active", source="list", signed_on=days_from_today(-30))

    html = login(officer).get(agreement.get_absolute_url()).content.decode()

    assert html.index('value="renew"') < html.index("End this agreement")
    assert f'class="button danger" href="/agreements/{agreement.pk}/terminate/"' in html
    assert 'value="terminate"' not in html  # no one-click termination on the agreement's page


def test_terminating_asks_for_confirmation_and_a_reason(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("active", source="list")
    url = f"/agreements/{agreement.pk}/terminate/"

    page = login(officer).get(url).content.decode()
    assert "cannot be undone" in page and 'name="terminate-confirm"' in page and 'name="terminate-comment"' in page

    unconfirmed = login(officer).post(url, {"terminate-comment": "Programme ended"}, follow=True)
    without_reason = login(officer).post(url, {"terminate-confirm": "on"}, follow=True)

    # Sent back in place, with what was typed (a redirect lost it and showed the error at the page's top).
    assert unconfirmed.status_code == without_reason.status_code == 400
    assert "This field is required." in unconfirmed.content.decode()
    assert "Programme ended" in unconfirmed.content.decode()
    assert field_error(without_reason.content.decode(), "Reason", "This field is required.")
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_termination_is_emailed_to_the_other_city_and_both_coordinators(
    agreement_in: Callable[..., Agreement],
    officer: User,
    partner_officer: User,
    coordinator: User,
    partner_coordinator: User,
) -> None:
    agreement = agreement_in("active", source="list")

    response = login(officer).post(
        f"/agreements/{agreement.pk}/terminate/",
        {"terminate-confirm": "on", "terminate-comment": "Merged into a regional programme"},
    )

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "terminated"
    messages = Message.objects.filter(event="agreement_terminated")
    assert sorted(messages.values_list("recipient__username", flat=True)) == [
        "coordinator.kg",
        "coordinator.kz",
        "officer.bishkek",
    ]
    assert all("Merged into a regional programme" in message.text_body for message in messages)


# -- approvals ----------------------------------------------------------------------


def test_after_one_approval_the_page_says_which_country_is_missing(
    agreement_in: Callable[..., Agreement], coordinator: User, partner_coordinator: User, officer: User
) -> None:
    agreement = agreement_in("under_review")

    response = login(coordinator).post(f"/agreements/{agreement.pk}/approve/", {}, follow=True)

    html = response.content.decode()
    assert "Your approval is recorded; waiting for Kyrgyzstan." in html
    assert "Waiting for Kyrgyzstan's approval." in html
    assert 'value="approve"' not in html and 'value="reject"' not in html
    assert "approved for Kazakhstan; the other country's approval still awaited" in html
    assert "Under review → Under review" not in html
    partner_html = login(partner_coordinator).get(agreement.get_absolute_url()).content.decode()
    assert 'value="approve"' in partner_html


def test_after_the_partner_accepts_the_page_says_whose_approval_is_awaited_not_that_theirs_is_recorded(
    agreement_in: Callable[..., Agreement], partner_officer: User
) -> None:
    agreement = agreement_in("proposed")

    html = login(partner_officer).post(f"/agreements/{agreement.pk}/accept/", {}, follow=True).content.decode()

    assert "Done: Under review; waiting for the approval of Kazakhstan, Kyrgyzstan." in html
    assert "Your approval is recorded" not in html


def test_a_repeated_approval_is_answered_as_already_done(
    agreement_in: Callable[..., Agreement], coordinator: User
) -> None:
    agreement = agreement_in("under_review")

    first = api(coordinator).post(f"/api/v1/agreements/{agreement.pk}/approve/", {}, format="json")
    second = api(coordinator).post(f"/api/v1/agreements/{agreement.pk}/approve/", {}, format="json")
    page = login(coordinator).post(f"/agreements/{agreement.pk}/approve/", {}, follow=True).content.decode()

    assert (first.status_code, first["Move-Outcome"]) == (200, "done")
    assert (second.status_code, second["Move-Outcome"]) == (200, "already-done")
    assert "Already done: the agreement is Under review." in page
    assert agreement.transitions.filter(move="approve").count() == 1


def test_a_coordinator_cannot_reject_after_approving(agreement_in: Callable[..., Agreement], coordinator: User) -> None:
    agreement = agreement_in("under_review")
    api(coordinator).post(f"/api/v1/agreements/{agreement.pk}/approve/", {}, format="json")

    response = api(coordinator).post(f"/api/v1/agreements/{agreement.pk}/reject/", {}, format="json")

    assert response.status_code == 409
    assert "approved this agreement already" in response.json()["detail"]


# -- proposing --------------------------------------------------------------------------


def test_a_city_page_links_to_the_agreement_in_progress_instead_of_offering_a_new_one(
    agreement_in: Callable[..., Agreement], officer: User, bishkek_city: City
) -> None:
    agreement = agreement_in("proposed")
    elsewhere = CityFactory.create(name="Osh", country=bishkek_city.country)

    bishkek_page = login(officer).get(f"/cities/{bishkek_city.pk}/").content.decode()
    osh_page = login(officer).get(f"/cities/{elsewhere.pk}/").content.decode()

    assert "Propose a partnership" not in bishkek_page
    assert f'href="{agreement.get_absolute_url()}">Open it' in bishkek_page
    assert "Propose a partnership" in osh_page


# -- dormant partnerships -------------------------------------------------------------


def test_a_dormant_agreement_asks_its_officers_for_an_activity_once(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User, coordinator: User
) -> None:
    agreement = agreement_in("active", signed_on=days_from_today(-400))
    agreement_in_use = AgreementFactory.create(
        initiator=officer.city, status="active", signed_on=days_from_today(-20), title="Lively"
    )

    remind_dormant_agreements()
    remind_dormant_agreements()

    assert sorted(Message.objects.values_list("recipient__username", "event")) == [
        ("officer.almaty", "agreement_dormant"),
        ("officer.bishkek", "agreement_dormant"),
    ]
    inbox = login(officer).get("/agreements/inbox/").content.decode()
    assert agreement.title in inbox and "a partnership to revive" in inbox
    assert agreement_in_use.title not in inbox


def test_an_imported_agreements_clock_starts_at_its_import(agreement_in: Callable[..., Agreement]) -> None:
    agreement = agreement_in("active", source="https://example.org/twinnings", signed_on=None)

    body = APIClient().get(f"/api/v1/agreements/{agreement.pk}/").json()
    page = Client().get(agreement.get_absolute_url()).content.decode()

    assert body["is_dormant"] is False
    # Dates are written in the reader's format (English: "Nov. 27, 2026").
    assert f"none logged since it was imported on {date_format(agreement.created_at, 'DATE_FORMAT')}" in page


# -- admin -------------------------------------------------------------------------------


def test_the_admin_expire_action_expires_the_selected_agreements_only(
    agreement_in: Callable[..., Agreement], staff: User
) -> None:
    selected = agreement_in("active", source="list", end_date=days_from_today(-1))
    other = AgreementFactory.create(status="active", source="list", end_date=days_from_today(-1))
    request = RequestFactory().post("/admin/partnerships/agreement/")
    request.user = staff
    request._messages = type("Messages", (), {"add": lambda *args, **kwargs: None})()  # type: ignore[attr-defined]

    AgreementAdmin(Agreement, site).expire_due(request, Agreement.objects.filter(pk=selected.pk))

    selected.refresh_from_db()
    other.refresh_from_db()
    assert (selected.status, other.status) == ("expired", "active")


def test_the_admin_links_the_memorandum_through_the_checked_download(
    agreement_in: Callable[..., Agreement], staff: User
) -> None:
    agreement = agreement_in("active", source="list")
    Agreement.objects.filter(pk=agreement.pk).update(memorandum="memoranda/2026/x.pdf")

    html = login(staff).get(f"/admin/partnerships/agreement/{agreement.pk}/change/").content.decode()

    assert f'href="/agreements/{agreement.pk}/memorandum/"' in html
    assert "/media/" not in html


def test_a_renewal_asks_the_other_city_by_email_and_tells_both_once_done(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User
) -> None:
    # A walk-through found Bishkek told of Almaty's renewal only by its inbox, and the page "waiting for both cities".
    agreement = agreement_in("active", end_date=days_from_today(3 * 365))
    new_end = days_from_today(8 * 365)
    response = login(officer).post(
        f"/agreements/{agreement.pk}/renew/", {"renew-end_date": new_end.isoformat()}, follow=True
    )
    assert (
        "Your city&#x27;s confirmation of the new term is recorded; waiting for Bishkek." in response.content.decode()
    )

    asked = Message.objects.get(event="agreement_renewal_proposed")
    assert asked.recipient == partner_officer and "Renewal to confirm" in asked.subject
    page = login(partner_officer).get(agreement.get_absolute_url()).content.decode()
    assert "confirmed by Almaty, waiting for Bishkek" in page

    services.make_move(agreement=agreement, move=Agreement.Move.RENEW, by=partner_officer, end_date=new_end)
    told = Message.objects.filter(event="agreement_renewed")
    assert [message.recipient for message in told] == [officer]  # the first to confirm; the second made the move
