"""Files of a practice: PDF documents and images, judged by their content, served only as downloads
to those who see the practice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from practices import services
from practices.models import ATTACHMENT_MAX_BYTES, ATTACHMENTS_PER_PRACTICE, Practice, PracticeAttachment
from sco_portal.errors import DomainError
from tests.conftest import login
from tests.factories import TopicFactory, pdf_document
from tests.test_uploads import JPEG_BYTES, PNG_BYTES, WEBP_BYTES

HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def api_as(person: User | None) -> APIClient:
    client = APIClient()
    if person is not None:
        client.force_authenticate(person)
    return client


def read(response: Any) -> Any:
    """Read a streamed download at once, which closes the file."""
    response.downloaded = b"".join(response.streaming_content) if response.streaming else None
    return response


def form_data(practice: Practice, **extra: Any) -> dict[str, Any]:
    """The edit form as the officer sends it, unchanged, plus `extra`."""
    return {
        "title": practice.title,
        "summary": practice.summary,
        "topics": [topic.pk for topic in practice.topics.all()],
        "language": practice.language,
        "indicators-TOTAL_FORMS": "0",
        "indicators-INITIAL_FORMS": "0",
        **extra,
    }


@pytest.fixture
def draft(practice_in: Callable[..., Practice]) -> Practice:
    return practice_in(Practice.Status.DRAFT)


def test_an_officer_attaches_a_pdf_and_an_image_on_the_form(draft: Practice, officer: User) -> None:
    files = [upload("Annual report 2024.pdf", pdf_document()), upload("site.png", PNG_BYTES)]

    response = login(officer).post(f"/practices/{draft.pk}/edit/", form_data(draft, new_attachments=files))

    assert response.status_code == 302
    attachments = list(draft.attachments.all())
    assert [(a.name, a.content_type) for a in attachments] == [
        ("Annual report 2024.pdf", "application/pdf"),
        ("site.png", "image/png"),
    ]
    # Stored under generated names, never the client's.
    names = [str(a.file.name) for a in attachments]
    assert all(name.startswith("practices/") and "report" not in name for name in names)
    assert names[0].endswith(".pdf") and names[1].endswith(".png")
    page = login(officer).get(draft.get_absolute_url()).content.decode()
    assert f'href="/practices/{draft.pk}/attachments/{attachments[0].pk}/"' in page and "/media/" not in page


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("report.pdf", HTML_PAGE, "The file must be a PDF, PNG, JPEG or WebP file."),
        ("photo.png", JPEG_BYTES, "The file&#x27;s name says png but its content is JPEG."),
        ("big.png", PNG_BYTES + b"\0" * ATTACHMENT_MAX_BYTES, "the limit is 10.0"),
    ],
    ids=["html-named-pdf", "jpeg-named-png", "oversize"],
)
def test_a_bad_file_is_a_form_error_and_nothing_is_stored(
    draft: Practice, officer: User, name: str, content: bytes, reason: str
) -> None:
    response = login(officer).post(
        f"/practices/{draft.pk}/edit/", form_data(draft, new_attachments=[upload(name, content)])
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert response.context["form"].errors.keys() == {"new_attachments"}
    assert not PracticeAttachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [("report.pdf", HTML_PAGE), ("photo.png", JPEG_BYTES), ("big.png", PNG_BYTES + b"\0" * ATTACHMENT_MAX_BYTES)],
    ids=["html-named-pdf", "jpeg-named-png", "oversize"],
)
def test_a_bad_file_through_the_api_is_a_400_naming_the_field(
    draft: Practice, officer: User, name: str, content: bytes
) -> None:
    response = api_as(officer).post(
        f"/api/v1/practices/{draft.pk}/attachments/", {"file": upload(name, content)}, format="multipart"
    )

    assert response.status_code == 400 and set(response.json()) == {"file"}
    assert not PracticeAttachment.objects.exists()


def test_the_api_attaches_lists_and_removes_a_file(draft: Practice, officer: User) -> None:
    client = api_as(officer)

    created = client.post(
        f"/api/v1/practices/{draft.pk}/attachments/", {"file": upload("plan.jpeg", JPEG_BYTES)}, format="multipart"
    )

    assert created.status_code == 201
    record = client.get(f"/api/v1/practices/{draft.pk}/").json()["attachments"]
    assert record == [
        {
            "id": created.json()["id"],
            "name": "plan.jpeg",
            "type": "image/jpeg",
            "size": len(JPEG_BYTES),
            "url": f"http://testserver/api/v1/practices/{draft.pk}/attachments/{created.json()['id']}/",
            "created_at": created.json()["created_at"],
        }
    ]
    stored = PracticeAttachment.objects.get().file
    assert stored.storage.exists(str(stored.name))
    with django_capture_on_commit() as callbacks:
        assert client.delete(record[0]["url"]).status_code == 204
    assert callbacks and not PracticeAttachment.objects.exists()
    assert not stored.storage.exists(str(stored.name))


def django_capture_on_commit() -> Any:
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.mark.parametrize("stranger", ["visitor", "neighbour_officer", "outsider"])
def test_a_drafts_file_is_not_found_for_those_who_do_not_see_the_draft(
    draft: Practice, officer: User, stranger: str, request: pytest.FixtureRequest
) -> None:
    attachment = services.add_attachment(practice=draft, by=officer, upload=upload("report.pdf", pdf_document()))
    person = None if stranger == "visitor" else request.getfixturevalue(stranger)
    page = Client() if person is None else login(person)

    assert read(page.get(attachment.get_absolute_url())).status_code == 404
    assert read(api_as(person).get(f"/api/v1/practices/{draft.pk}/attachments/{attachment.pk}/")).status_code == 404


def test_the_citys_officer_downloads_a_drafts_file(draft: Practice, officer: User) -> None:
    attachment = services.add_attachment(practice=draft, by=officer, upload=upload("report.pdf", pdf_document()))

    response = read(login(officer).get(attachment.get_absolute_url()))

    assert response.status_code == 200 and response.downloaded == pdf_document()


def test_a_visitor_downloads_a_published_practices_file_as_an_attachment(
    draft: Practice, officer: User, coordinator: User
) -> None:
    attachment = services.add_attachment(practice=draft, by=officer, upload=upload("site photo.webp", WEBP_BYTES))
    draft.submit(by=officer)
    draft.publish(by=coordinator)

    for response in (
        read(Client().get(attachment.get_absolute_url())),
        read(APIClient().get(f"/api/v1/practices/{draft.pk}/attachments/{attachment.pk}/", HTTP_ACCEPT="image/*")),
    ):
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="site photo.webp"'
        assert response["Content-Type"] == "image/webp" and response["X-Content-Type-Options"] == "nosniff"


def test_a_file_of_another_practice_is_not_found_under_this_one(
    draft: Practice, officer: User, practice_in: Callable[..., Practice]
) -> None:
    published = practice_in(Practice.Status.PUBLISHED)
    attachment = services.add_attachment(practice=draft, by=officer, upload=upload("report.pdf", pdf_document()))

    assert read(Client().get(f"/practices/{published.pk}/attachments/{attachment.pk}/")).status_code == 404


def test_files_cannot_change_once_the_practice_is_submitted(draft: Practice, officer: User) -> None:
    draft.submit(by=officer)

    response = api_as(officer).post(
        f"/api/v1/practices/{draft.pk}/attachments/", {"file": upload("r.pdf", pdf_document())}, format="multipart"
    )

    assert response.status_code == 409 and not PracticeAttachment.objects.exists()


def test_only_the_citys_officers_attach(
    practice_in: Callable[..., Practice], coordinator: User, neighbour_officer: User
) -> None:
    published = practice_in(Practice.Status.PUBLISHED)
    for person, code in ((coordinator, 403), (neighbour_officer, 403)):
        response = api_as(person).post(
            f"/api/v1/practices/{published.pk}/attachments/",
            {"file": upload("r.pdf", pdf_document())},
            format="multipart",
        )
        assert response.status_code == code
    # A moderator correcting a published practice gets a form without file fields.
    form = login(coordinator).get(f"/practices/{published.pk}/edit/").context["form"]
    assert "new_attachments" not in form.fields


def test_a_practice_carries_a_limited_number_of_files(draft: Practice, officer: User) -> None:
    for number in range(ATTACHMENTS_PER_PRACTICE):
        services.add_attachment(practice=draft, by=officer, upload=upload(f"{number}.png", PNG_BYTES))

    response = login(officer).post(
        f"/practices/{draft.pk}/edit/", form_data(draft, new_attachments=[upload("one more.png", PNG_BYTES)])
    )

    assert response.context["form"].errors.keys() == {"new_attachments"}
    assert draft.attachments.count() == ATTACHMENTS_PER_PRACTICE


def test_an_officer_removes_a_file_on_the_form(draft: Practice, officer: User) -> None:
    kept = services.add_attachment(practice=draft, by=officer, upload=upload("keep.pdf", pdf_document()))
    gone = services.add_attachment(practice=draft, by=officer, upload=upload("gone.png", PNG_BYTES))

    response = login(officer).post(f"/practices/{draft.pk}/edit/", form_data(draft, remove_attachments=[gone.pk]))

    assert response.status_code == 302
    assert list(draft.attachments.all()) == [kept]


def test_an_officer_shares_a_new_practice_with_a_file(officer: User) -> None:
    topic = TopicFactory.create()
    form = {
        "title": "Rooftop solar on schools",
        "summary": "Panels on 40 school roofs.",
        "topics": [topic.pk],
        "language": "en",
        "indicators-TOTAL_FORMS": "0",
        "indicators-INITIAL_FORMS": "0",
        "new_attachments": [upload("plan.pdf", pdf_document())],
    }

    response = login(officer).post("/practices/new/", form)

    practice = Practice.objects.get()
    assert response.status_code == 302 and practice.attachments.get().name == "plan.pdf"


def test_a_save_that_fails_after_the_upload_keeps_no_file(
    draft: Practice, officer: User, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise DomainError("Not now.")

    monkeypatch.setattr("practices.services.make_move", refuse)

    response = login(officer).post(
        f"/practices/{draft.pk}/edit/", form_data(draft, new_attachments=[upload("r.pdf", pdf_document())], submit="1")
    )

    assert response.status_code == 200 and "Not now." in response.content.decode()
    assert not PracticeAttachment.objects.exists()
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_deleting_a_practice_removes_its_files_from_the_storage(draft: Practice, officer: User, staff: User) -> None:
    attachment = services.add_attachment(practice=draft, by=officer, upload=upload("r.pdf", pdf_document()))
    stored = attachment.file
    assert "r.pdf" in login(staff).get(f"/admin/practices/practice/{draft.pk}/change/").content.decode()

    with django_capture_on_commit():
        services.delete_practice(practice=draft, by=officer)

    assert not stored.storage.exists(str(stored.name))
