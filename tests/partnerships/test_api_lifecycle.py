from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from partnerships.models import Agreement
from tests.factories import AgreementFactory, TopicFactory, days_from_today
from tests.partnerships.conftest import pdf_file


def api(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def move(user: User | None, agreement: Agreement | int, name: str, **data: Any) -> Any:
    pk = agreement if isinstance(agreement, int) else agreement.pk
    return api(user).post(
        f"/api/v1/agreements/{pk}/{name}/", data, format="multipart" if "memorandum" in data else "json"
    )


def test_whole_lifecycle_through_the_api(
    officer: User,
    partner_officer: User,
    coordinator: User,
    partner_coordinator: User,
    almaty_city: City,
    bishkek_city: City,
    sent_notifications: list[dict[str, Any]],
) -> None:
    transport = TopicFactory.create(slug="public-transport")
    created = api(officer).post(
        "/api/v1/agreements/",
        {
            "initiator": almaty_city.pk,
            "partner": bishkek_city.pk,
            "kind": "sister_city",
            "title": "Almaty – Bishkek",
            "summary": "Bus rapid transit exchange",
            "topics": [transport.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["topics"] == ["public-transport"]

    patched = api(officer).patch(f"/api/v1/agreements/{pk}/", {"title": "Almaty – Bishkek transit"}, format="json")
    assert patched.json()["title"] == "Almaty – Bishkek transit"

    signed_on = days_from_today(-7).isoformat()
    new_end = days_from_today(10 * 365).isoformat()
    steps: list[tuple[User, str, dict[str, Any], str]] = [
        (officer, "propose", {}, "proposed"),
        (partner_officer, "accept", {"comment": "Gladly"}, "under_review"),
        (coordinator, "approve", {}, "under_review"),
        (partner_coordinator, "approve", {}, "approved"),
        (partner_officer, "sign", {"signed_on": signed_on, "memorandum": pdf_file()}, "active"),
        (coordinator, "suspend", {"comment": "Audit"}, "suspended"),
        (partner_coordinator, "resume", {}, "active"),
        (officer, "renew", {"end_date": new_end}, "active"),
        (partner_officer, "renew", {"end_date": new_end}, "active"),
        (officer, "terminate", {"comment": "Merged into a regional programme"}, "terminated"),
    ]
    for person, name, data, expected in steps:
        response = move(person, pk, name, **data)
        assert response.status_code == 200, (name, response.json())
        assert response.json()["status"] == expected, name

    body = api(officer).get(f"/api/v1/agreements/{pk}/").json()
    assert body["signed_on"] == signed_on
    assert body["memorandum"] == f"http://testserver/api/v1/agreements/{pk}/memorandum/"
    assert body["end_date"] == new_end
    assert body["approvals"] == {"initiator_country": True, "partner_country": True}
    timeline = [
        (t["move"], t["from_status"], t["to_status"], (t["actor"] or {}).get("role")) for t in body["transitions"]
    ]
    assert timeline == [
        ("create", "", "draft", "officer"),
        ("propose", "draft", "proposed", "officer"),
        ("accept", "proposed", "under_review", "officer"),
        ("approve", "under_review", "under_review", "national_coordinator"),
        ("approve", "under_review", "approved", "national_coordinator"),
        ("sign", "approved", "active", "officer"),
        ("suspend", "active", "suspended", "national_coordinator"),
        ("resume", "suspended", "active", "national_coordinator"),
        ("renew", "active", "active", "officer"),
        ("renew", "active", "active", "officer"),
        ("terminate", "active", "terminated", "officer"),
    ]
    assert body["transitions"][2]["comment"] == "Gladly"
    events = [(call["event"], call["recipients"]) for call in sent_notifications]
    assert events == [
        ("agreement_proposed", ["officer.bishkek"]),
        ("agreement_accepted", ["coordinator.kg", "coordinator.kz", "officer.almaty"]),
        ("agreement_approved", ["officer.almaty", "officer.bishkek"]),
        ("agreement_signed", ["coordinator.kg", "coordinator.kz", "officer.almaty"]),
        ("agreement_renewal_proposed", ["officer.bishkek"]),
        ("agreement_renewed", ["officer.almaty"]),
        ("agreement_terminated", ["coordinator.kg", "coordinator.kz", "officer.bishkek"]),
    ]


def test_a_repeated_move_changes_nothing(
    agreement_in: Callable[..., Agreement],
    officer: User,
    partner_officer: User,
    sent_notifications: list[dict[str, Any]],
) -> None:
    agreement = agreement_in("proposed")

    assert move(partner_officer, agreement, "accept").status_code == 200
    assert move(partner_officer, agreement, "accept").status_code == 200

    assert agreement.transitions.filter(move="accept").count() == 1
    assert len(sent_notifications) == 1


def test_illegal_move_answers_409_with_a_message(agreement_in: Callable[..., Agreement], partner_officer: User) -> None:
    agreement = agreement_in("draft")

    response = move(partner_officer, agreement, "accept")

    assert response.status_code == 409
    assert response.json()["detail"] == "An agreement that is draft cannot be accepted."


def test_second_proposal_for_an_already_partnered_pair_is_refused(
    agreement_in: Callable[..., Agreement],
    officer: User,
    partner_officer: User,
    almaty_city: City,
    bishkek_city: City,
) -> None:
    agreement_in("active", source="https://en.wikipedia.org/wiki/List_of_twin_towns_and_sister_cities_in_Kazakhstan")

    for person, initiator, partner in (
        (officer, almaty_city, bishkek_city),
        (partner_officer, bishkek_city, almaty_city),
    ):
        response = api(person).post(
            "/api/v1/agreements/",
            {"initiator": initiator.pk, "partner": partner.pk, "kind": "sister_city", "title": "Again"},
            format="json",
        )
        assert response.status_code == 409
        assert "Almaty and Bishkek already have an agreement that is not finished" in response.json()["detail"]
    assert Agreement.objects.count() == 1


def test_database_refuses_a_second_unfinished_agreement_for_a_pair(
    agreement_in: Callable[..., Agreement], almaty_city: City, bishkek_city: City
) -> None:
    from django.db import IntegrityError

    agreement_in("proposed")
    with pytest.raises(IntegrityError):
        AgreementFactory.create(initiator=bishkek_city, partner=almaty_city, status="draft")


def test_finished_agreement_frees_the_pair(
    agreement_in: Callable[..., Agreement], officer: User, almaty_city: City, bishkek_city: City
) -> None:
    agreement_in("declined")

    response = api(officer).post(
        "/api/v1/agreements/",
        {"initiator": almaty_city.pk, "partner": bishkek_city.pk, "kind": "friendship_city", "title": "Second try"},
        format="json",
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "twinned", "title": "x"}, "kind"),
        ({"kind": "sister_city"}, "title"),
        ({"kind": "sister_city", "title": "x", "partner": 999999}, "partner"),
    ],
)
def test_bad_draft_answers_400_naming_the_field(
    officer: User, almaty_city: City, bishkek_city: City, payload: dict[str, Any], field: str
) -> None:
    response = api(officer).post(
        "/api/v1/agreements/", {"initiator": almaty_city.pk, "partner": bishkek_city.pk, **payload}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()


def test_an_agreement_needs_two_different_cities(officer: User, almaty_city: City) -> None:
    response = api(officer).post(
        "/api/v1/agreements/",
        {"initiator": almaty_city.pk, "partner": almaty_city.pk, "kind": "sister_city", "title": "Self"},
        format="json",
    )

    assert response.status_code == 400
    assert "two different cities" in response.json()["detail"]


def test_officer_cannot_draft_for_another_city(partner_officer: User, almaty_city: City, bishkek_city: City) -> None:
    response = api(partner_officer).post(
        "/api/v1/agreements/",
        {"initiator": almaty_city.pk, "partner": bishkek_city.pk, "kind": "sister_city", "title": "Not mine"},
        format="json",
    )

    assert response.status_code == 403


def test_draft_cannot_be_patched_once_proposed(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("proposed")

    response = api(officer).patch(f"/api/v1/agreements/{agreement.pk}/", {"title": "Changed"}, format="json")

    assert response.status_code == 409


def test_partner_cannot_patch_the_initiators_draft(
    agreement_in: Callable[..., Agreement], partner_officer: User
) -> None:
    agreement = agreement_in("draft")

    assert (
        api(partner_officer).patch(f"/api/v1/agreements/{agreement.pk}/", {"title": "x"}, format="json").status_code
        == 403
    )


def test_signing_refuses_a_memorandum_that_is_not_a_pdf(agreement_in: Callable[..., Agreement], officer: User) -> None:
    import io

    fake = io.BytesIO(b"MZ\x90\x00 this is an executable")
    fake.name = "memorandum.pdf"
    agreement = agreement_in("approved")

    response = move(officer, agreement, "sign", signed_on=days_from_today(-7).isoformat(), memorandum=fake)

    assert response.status_code == 400
    assert "memorandum" in response.json()
    agreement.refresh_from_db()
    assert agreement.status == "approved"


def test_signing_needs_date_and_memorandum(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("approved")

    response = move(officer, agreement, "sign", signed_on=days_from_today(-7).isoformat())

    assert response.status_code == 400
    assert response.json()["memorandum"] == ["No file was submitted."]  # the sign request names what is missing


def test_terminating_needs_a_reason(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("active")

    response = move(officer, agreement, "terminate")

    assert response.status_code == 400
    assert "why" in response.json()["detail"]


def test_sco_coordinator_approves_for_either_country(
    agreement_in: Callable[..., Agreement], sco_coordinator: User, coordinator: User
) -> None:
    agreement = agreement_in("under_review")

    assert move(sco_coordinator, agreement, "approve", country="KG").json()["approvals"] == {
        "initiator_country": False,
        "partner_country": True,
    }
    assert move(coordinator, agreement, "approve").json()["status"] == "approved"


def test_one_country_approving_twice_does_not_approve_the_agreement(
    agreement_in: Callable[..., Agreement], coordinator: User
) -> None:
    agreement = agreement_in("under_review")

    move(coordinator, agreement, "approve")
    response = move(coordinator, agreement, "approve")

    assert response.json()["status"] == "under_review"
    assert agreement.transitions.filter(move="approve").count() == 1


def test_rejection_by_one_country_ends_the_review(
    agreement_in: Callable[..., Agreement],
    officer: User,
    partner_coordinator: User,
    sent_notifications: list[dict[str, Any]],
) -> None:
    agreement = agreement_in("under_review")

    response = move(partner_coordinator, agreement, "reject", comment="Not a priority")

    assert response.json()["status"] == "rejected"
    assert (sent_notifications[-1]["event"], sent_notifications[-1]["recipients"]) == (
        "agreement_rejected",
        ["officer.almaty"],
    )


def test_lists_show_visitors_only_public_agreements(
    agreement_in: Callable[..., Agreement], almaty_city: City, outsider: User
) -> None:
    agreement_in("proposed")
    active = AgreementFactory.create(initiator=almaty_city, status="active")

    for person in (None, outsider):
        ids = [row["id"] for row in api(person).get("/api/v1/agreements/").json()["results"]]
        assert ids == [active.pk]


def test_list_keeps_a_fixed_query_count(almaty_city: City, sco_coordinator: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    topic = TopicFactory.create()
    for _ in range(25):
        AgreementFactory.create(initiator=almaty_city, status="active").topics.add(topic)

    def queries(rows: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api(sco_coordinator).get("/api/v1/agreements/", {"page_size": rows}).status_code == 200
        return len(captured)

    assert queries(2) == queries(25)


def test_list_filters(agreement_in: Callable[..., Agreement], almaty_city: City, sco_coordinator: User) -> None:
    transport = TopicFactory.create(slug="public-transport")
    ours = agreement_in("active", source="list")
    ours.topics.add(transport)
    other = AgreementFactory.create(status="proposed")

    def ids(**params: Any) -> set[int]:
        return {row["id"] for row in api(sco_coordinator).get("/api/v1/agreements/", params).json()["results"]}

    assert ids(status="active") == {ours.pk}
    assert ids(status="proposed") == {other.pk}
    assert ids(city=almaty_city.pk) == {ours.pk}
    assert ids(country="KG") == {ours.pk}
    assert ids(topic="public-transport") == {ours.pk}
    assert ids(dormant="true") == {ours.pk}  # signed in 2020, nothing logged since
    assert api(sco_coordinator).get("/api/v1/agreements/", {"status": "bogus"}).status_code == 400


def test_api_key_clients_read_but_never_move(api_client: APIClient, agreement_in: Callable[..., Agreement]) -> None:
    agreement = agreement_in("active", source="list")

    assert api_client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 200
    assert api_client.post(f"/api/v1/agreements/{agreement.pk}/terminate/", {"comment": "x"}).status_code == 403


def test_renewal_waits_for_both_cities(
    agreement_in: Callable[..., Agreement], officer: User, partner_officer: User
) -> None:
    end, new_end = days_from_today(3 * 365).isoformat(), days_from_today(8 * 365).isoformat()
    agreement = agreement_in("active", end_date=end)

    first = move(officer, agreement, "renew", end_date=new_end).json()
    assert (first["end_date"], first["renewal_end_date"]) == (end, new_end)
    assert move(partner_officer, agreement, "renew", end_date=new_end).json()["end_date"] == new_end


def test_signing_date_cannot_be_in_the_future(agreement_in: Callable[..., Agreement], officer: User) -> None:
    agreement = agreement_in("approved")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = move(officer, agreement, "sign", signed_on=tomorrow.isoformat(), memorandum=pdf_file())

    assert response.status_code == 400
