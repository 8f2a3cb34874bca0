"""A body too large for its kind is refused (413) before it is read; the API says so in JSON."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from partnerships.models import Agreement
from tests.conftest import login
from tests.factories import AgreementFactory


class Unreadable(io.BytesIO):
    """A body that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")


def post_raw(client: Client, path: str, content_type: str, length: int) -> Any:
    meta: dict[str, Any] = {"CONTENT_LENGTH": str(length), "wsgi.input": Unreadable()}
    return client.generic("POST", path, b"", content_type=content_type, **meta)


def test_a_json_body_over_256_kb_answers_413_in_json_before_it_is_read(officer: User) -> None:
    response = post_raw(login(officer), "/api/v1/agreements/", "application/json", 256 * 1024 + 1)
    assert response.status_code == 413
    assert "at most 262144 bytes" in response.json()["detail"]


def test_a_json_body_within_the_limit_is_read(officer: User, partner_officer: User) -> None:
    body = json.dumps({"title": "x" * 200_000})
    response = login(officer).post("/api/v1/agreements/", body, content_type="application/json")
    assert response.status_code == 400  # read and validated: the fields are wrong, not the size


def test_an_upload_over_10_mb_and_its_margin_answers_413(officer: User, partner_officer: User) -> None:
    agreement = AgreementFactory.create(
        initiator=officer.city, partner=partner_officer.city, status=Agreement.Status.APPROVED
    )
    client = login(officer)
    path = f"/api/v1/agreements/{agreement.pk}/sign/"
    refused = post_raw(client, path, "multipart/form-data; boundary=x", 11 * 1024 * 1024 + 1)
    assert refused.status_code == 413
    assert "bytes" in refused.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_under_runserver_an_upload_over_the_limit_is_a_413_with_its_message(live_server: Any) -> None:
    # live_server is runserver's own WSGI server: it refused the response's "Connection: close" (a hop-by-hop header)
    # and answered 500, "A server error occurred", to a 12 MB PDF in a walk-through.
    body = b"x" * (12 * 1024 * 1024)
    request = urllib.request.Request(
        f"{live_server.url}/practices/new/",
        data=body,
        method="POST",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert b"at most" in refused.value.read()


def test_a_page_form_over_the_limit_answers_413(officer: User, partner_officer: User) -> None:
    path = f"/agreements/new/{partner_officer.city_id}/"
    response = post_raw(login(officer), path, "application/x-www-form-urlencoded", 300 * 1024)
    assert response.status_code == 413


def test_a_content_length_that_is_not_a_number_is_a_400(db: None) -> None:
    response = Client().generic(
        "POST", "/api/v1/agreements/", b"{}", content_type="application/json", CONTENT_LENGTH="ten"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The Content-Length header is not a number."


def test_the_refusal_is_in_the_readers_language(officer: User) -> None:
    meta: dict[str, Any] = {"CONTENT_LENGTH": str(300 * 1024), "wsgi.input": Unreadable(), "HTTP_ACCEPT_LANGUAGE": "ru"}
    response = Client().generic("POST", "/api/v1/agreements/", b"", content_type="application/json", **meta)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Тело запроса")
