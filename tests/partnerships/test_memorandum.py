"""Downloading a signed memorandum: through the agreement's visibility, never from /media/."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from partnerships.models import MEMORANDUM, Agreement
from sco_portal import uploads
from tests.conftest import field_error, login
from tests.partnerships.conftest import PDF_BYTES, pdf

PEOPLE = ["officer", "partner_officer", "coordinator", "partner_coordinator", "sco_coordinator", "staff"]
STRANGERS = ["outsider", "other_coordinator", "visitor"]


def page_client(person: User | None) -> Client:
    return login(person) if person else Client()


def api_client(person: User | None) -> APIClient:
    client = APIClient()
    if person:
        client.force_authenticate(person)
    return client


def download(person: User | None, agreement: Agreement, where: str, **headers: Any) -> Any:
    """GET the memorandum from the page's URL or the API's, as `person` (None: a visitor)."""
    if where == "page":
        return read(page_client(person).get(f"/agreements/{agreement.pk}/memorandum/", headers=headers))
    return read(api_client(person).get(f"/api/v1/agreements/{agreement.pk}/memorandum/", headers=headers))


def read(response: Any) -> Any:
    """Read the file at once, which closes it: a download a test did not expect must fail that
    test alone, not leave an open file to warn in whichever test runs next."""
    response.downloaded = b"".join(response.streaming_content) if response.streaming else None
    return response


def person(request: pytest.FixtureRequest, role: str) -> User | None:
    return None if role == "visitor" else request.getfixturevalue(role)


@pytest.fixture
def signed(agreement_in: Callable[..., Agreement], officer: User) -> Agreement:
    """An Almaty–Bishkek agreement signed last week with a PDF memorandum (so: active)."""
    agreement = agreement_in("approved")
    agreement.sign(by=officer, signed_on=timezone.localdate() - datetime.timedelta(days=7), memorandum=pdf())
    return agreement


@pytest.fixture
def under_review_with_memorandum(agreement_in: Callable[..., Agreement]) -> Agreement:
    """An agreement still under review that already has a file: visibility alone must keep it private."""
    agreement = agreement_in("under_review")
    uploads.store(agreement.memorandum, pdf(), check=MEMORANDUM, save=True)
    return agreement


def assert_is_the_memorandum(response: Any, agreement: Agreement) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="agreement-{agreement.pk}-memorandum.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.downloaded == PDF_BYTES


@pytest.mark.parametrize("where", ["page", "api"])
@pytest.mark.parametrize("role", PEOPLE)
def test_those_concerned_download_the_memorandum_of_an_agreement_under_review(
    request: pytest.FixtureRequest, under_review_with_memorandum: Agreement, role: str, where: str
) -> None:
    response = download(person(request, role), under_review_with_memorandum, where)

    assert_is_the_memorandum(response, under_review_with_memorandum)


@pytest.mark.parametrize("where", ["page", "api"])
@pytest.mark.parametrize("role", STRANGERS)
def test_the_memorandum_of_an_agreement_out_of_sight_is_not_found(
    request: pytest.FixtureRequest, under_review_with_memorandum: Agreement, role: str, where: str
) -> None:
    assert download(person(request, role), under_review_with_memorandum, where).status_code == 404


@pytest.mark.parametrize("where", ["page", "api"])
def test_a_visitor_gets_the_memorandum_once_the_agreement_is_active(
    agreement_in: Callable[..., Agreement], officer: User, coordinator: User, where: str
) -> None:
    agreement = agreement_in("approved")
    assert download(None, agreement, where).status_code == 404

    agreement.sign(by=officer, signed_on=timezone.localdate(), memorandum=pdf())
    assert_is_the_memorandum(download(None, agreement, where), agreement)

    agreement.suspend(by=coordinator)
    assert download(None, agreement, where).status_code == 404


def test_a_machine_client_downloads_the_memorandum_of_an_active_agreement(
    api_client: APIClient, signed: Agreement
) -> None:
    response = read(api_client.get(f"/api/v1/agreements/{signed.pk}/memorandum/"))

    assert_is_the_memorandum(response, signed)


def test_the_api_answers_a_client_that_asks_for_a_pdf(signed: Agreement) -> None:
    response = download(None, signed, "api", Accept="application/pdf")

    assert_is_the_memorandum(response, signed)


def test_the_api_answers_json_when_there_is_nothing_to_download(agreement_in: Callable[..., Agreement]) -> None:
    imported = agreement_in("active", source="list")

    response = download(None, imported, "api", Accept="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("where", ["page", "api"])
def test_an_agreement_without_a_memorandum_answers_not_found(
    agreement_in: Callable[..., Agreement], officer: User, where: str
) -> None:
    imported = agreement_in("active", source="list")

    assert download(officer, imported, where).status_code == 404


@pytest.mark.parametrize("where", ["page", "api"])
def test_a_memorandum_the_storage_lost_answers_not_found_not_a_server_error(
    signed: Agreement, officer: User, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    signed.memorandum.storage.delete(signed.memorandum.name or "")

    # The test client raises any exception a view lets out: a 500 would fail here.
    assert download(officer, signed, where).status_code == 404
    assert f"Stored file {signed.memorandum.name} is missing" in caplog.text


def test_the_agreement_page_links_to_the_download_not_to_media(signed: Agreement, partner_officer: User) -> None:
    html = login(partner_officer).get(f"/agreements/{signed.pk}/").content.decode()

    assert f'href="/agreements/{signed.pk}/memorandum/"' in html
    assert "/media/" not in html


def test_the_api_links_to_the_download_not_to_media(
    signed: Agreement, agreement_in: Callable[..., Agreement], outsider: User
) -> None:
    link = f"http://testserver/api/v1/agreements/{signed.pk}/memorandum/"

    assert api_client(None).get(f"/api/v1/agreements/{signed.pk}/").json()["memorandum"] == link
    listed = api_client(outsider).get("/api/v1/agreements/").json()["results"]
    assert [row["memorandum"] for row in listed] == [link]


def test_the_api_gives_no_link_when_there_is_no_memorandum(agreement_in: Callable[..., Agreement]) -> None:
    imported = agreement_in("active", source="list")

    assert api_client(None).get(f"/api/v1/agreements/{imported.pk}/").json()["memorandum"] is None


def test_signing_on_the_page_with_a_web_page_as_memorandum_shows_why_it_is_refused(
    agreement_in: Callable[..., Agreement], officer: User
) -> None:
    agreement = agreement_in("approved")
    web_page = SimpleUploadedFile("memorandum.pdf", b"<!DOCTYPE html><html><body>Signed!</body></html>")

    response = login(officer).post(
        f"/agreements/{agreement.pk}/sign/",
        {"sign-signed_on": timezone.localdate().isoformat(), "sign-memorandum": web_page},
        follow=True,
    )

    assert response.status_code == 400
    assert field_error(response.content.decode(), "Signed memorandum (PDF)", "The file must be a PDF file.")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.memorandum.name) == ("approved", "")


def test_signing_through_the_api_with_a_truncated_pdf_is_a_field_error(
    agreement_in: Callable[..., Agreement], officer: User
) -> None:
    agreement = agreement_in("approved")
    truncated = SimpleUploadedFile("memorandum.pdf", PDF_BYTES[: len(PDF_BYTES) // 2])

    response = api_client(officer).post(
        f"/api/v1/agreements/{agreement.pk}/sign/",
        {"signed_on": timezone.localdate().isoformat(), "memorandum": truncated},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {
        "memorandum": ["The PDF is damaged or incomplete; save or export it again and upload the new file."]
    }
    agreement.refresh_from_db()
    assert agreement.status == "approved"
