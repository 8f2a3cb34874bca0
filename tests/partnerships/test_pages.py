from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from accounts.models import User
from cities.models import City
from partnerships.models import Agreement
from tests.conftest import login
from tests.factories import AgreementFactory, TopicFactory, days_from_today
from tests.partnerships.conftest import pdf


def test_officer_proposes_a_partnership_from_a_city_page(
    officer: User, bishkek_city: City, partner_officer: User, sent_notifications: list[dict[str, Any]]
) -> None:
    client = login(officer)
    assert "Propose a partnership" in client.get(f"/cities/{bishkek_city.pk}/").content.decode()
    topic = TopicFactory.create(name="Public transport")

    response = client.post(
        f"/agreements/new/{bishkek_city.pk}/",
        {"kind": "sister_city", "title": "Almaty – Bishkek transit", "topics": [topic.pk], "propose": "1"},
    )

    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    assert (agreement.status, agreement.initiator.name, agreement.partner.name) == ("proposed", "Almaty", "Bishkek")
    assert sent_notifications[0]["recipients"] == ["officer.bishkek"]


def test_proposing_to_an_already_partnered_city_leads_to_the_agreement_they_have(
    officer: User, agreement_in: Callable[..., Agreement], bishkek_city: City
) -> None:
    existing = agreement_in("active", source="list")

    response = login(officer).post(
        f"/agreements/new/{bishkek_city.pk}/", {"kind": "sister_city", "title": "Again"}, follow=True
    )

    assert response.redirect_chain == [(existing.get_absolute_url(), 302)]
    assert "Almaty and Bishkek already have an agreement that is not finished" in response.content.decode()
    assert Agreement.objects.count() == 1


def test_proposing_a_partnership_to_the_officers_own_city_is_refused_before_the_form(
    officer: User, almaty_city: City
) -> None:
    # A walk-through opened "Almaty (Kazakhstan) – Almaty (Kazakhstan)", refused only once filled in and saved.
    response = login(officer).get(f"/agreements/new/{almaty_city.pk}/", follow=True)
    assert response.redirect_chain == [(almaty_city.get_absolute_url(), 302)]
    assert "An agreement needs two different cities." in response.content.decode()


def test_only_officers_propose_partnerships(coordinator: User, bishkek_city: City) -> None:
    assert login(coordinator).get(f"/agreements/new/{bishkek_city.pk}/").status_code == 403


def test_inbox_lists_what_waits_and_the_header_counts_it(
    agreement_in: Callable[..., Agreement], partner_officer: User, coordinator: User
) -> None:
    proposed = agreement_in("proposed")

    html = login(partner_officer).get("/agreements/inbox/").content.decode()
    assert proposed.title in html and "a proposal to answer" in html
    assert 'aria-label="waiting on you">1</span>' in html
    assert 'aria-label="waiting on you">0</span>' in login(coordinator).get("/").content.decode()


def test_coordinator_inbox_holds_agreements_to_approve_until_their_country_approved(
    agreement_in: Callable[..., Agreement], coordinator: User, partner_coordinator: User
) -> None:
    agreement = agreement_in("under_review")
    assert agreement.title in login(coordinator).get("/agreements/inbox/").content.decode()

    login(coordinator).post(f"/agreements/{agreement.pk}/approve/", {"approve-comment": ""})

    assert agreement.title not in login(coordinator).get("/agreements/inbox/").content.decode()
    assert agreement.title in login(partner_coordinator).get("/agreements/inbox/").content.decode()


def test_move_from_the_page_runs_the_same_service(
    agreement_in: Callable[..., Agreement], partner_officer: User
) -> None:
    agreement = agreement_in("proposed")
    client = login(partner_officer)

    response = client.post(f"/agreements/{agreement.pk}/accept/", {"accept-comment": "Yes"})

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "under_review"
    assert agreement.transitions.get().comment == "Yes"


def test_signing_from_the_page_stores_the_memorandum(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("approved")

    signed_on = days_from_today(-30)
    login(officer).post(f"/agreements/{agreement.pk}/sign/", {"sign-signed_on": signed_on, "sign-memorandum": pdf()})

    agreement.refresh_from_db()
    assert (agreement.status, agreement.signed_on) == ("active", signed_on)
    with agreement.memorandum.open("rb") as memorandum:
        assert memorandum.read().startswith(b"%PDF-")


def test_repeated_move_on_the_page_is_quiet(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("draft")

    confirmed = {"withdraw-confirm": "on"}
    login(officer).post(f"/agreements/{agreement.pk}/withdraw/", confirmed)
    response = login(officer).post(f"/agreements/{agreement.pk}/withdraw/", confirmed, follow=True)

    assert "cannot be withdrawn" not in response.content.decode()
    assert "Already done: the agreement is Withdrawn." in response.content.decode()
    assert agreement.transitions.filter(move="withdraw").count() == 1


def test_illegal_move_on_the_page_shows_the_conflict(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("under_review")

    response = login(officer).post(f"/agreements/{agreement.pk}/propose/", {}, follow=True)

    assert "An agreement that is under review cannot be proposed." in response.content.decode()


def test_private_agreement_pages_are_404_to_outsiders(
    agreement_in: Callable[..., Agreement], outsider: User, client: Client
) -> None:
    agreement = agreement_in("proposed")

    assert login(outsider).get(agreement.get_absolute_url()).status_code == 404
    assert client.get(agreement.get_absolute_url()).status_code == 404
    assert login(outsider).post(f"/agreements/{agreement.pk}/withdraw/").status_code == 404


def test_visible_but_forbidden_move_on_the_page_is_403(
    agreement_in: Callable[..., Agreement], partner_officer: User
) -> None:
    agreement = agreement_in("proposed")

    assert login(partner_officer).post(f"/agreements/{agreement.pk}/withdraw/").status_code == 403


def test_city_page_lists_its_partners(
    agreement_in: Callable[..., Agreement], almaty_city: City, client: Client
) -> None:
    agreement_in("active", source="list")
    AgreementFactory.create(initiator=almaty_city, status="proposed", title="A private proposal")

    html = client.get(f"/cities/{almaty_city.pk}/").content.decode()

    assert "Partner cities" in html
    assert "Bishkek" in html
    assert "A private proposal" not in html


def test_agreement_list_filters_by_status_and_country(agreement_in: Callable[..., Agreement], client: Client) -> None:
    agreement = agreement_in("active", source="list", title="Almaty – Bishkek")
    AgreementFactory.create(status="terminated", title="Another pair", signed_on=days_from_today(-8 * 365))

    assert "Another pair" not in client.get("/agreements/", {"country": "KG"}).content.decode()
    html = client.get("/agreements/", {"status": "terminated"}).content.decode()
    assert "Another pair" in html and agreement.title not in html
