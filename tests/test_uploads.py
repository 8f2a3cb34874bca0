"""The shared upload rules: content checks, generated names, downloads."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone, translation
from pypdf import PdfWriter

from partnerships.models import MEMORANDUM, Agreement
from sco_portal import uploads
from tests.factories import pdf_document

# The smallest files each format's signature makes (the pixels are not decoded without Pillow).
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40 + b"\xff\xd9"
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40

ATTACHMENT = uploads.FileCheck(uploads.PDF, *uploads.IMAGES, max_bytes=1024 * 1024)


def upload(content: bytes, name: str = "memorandum.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(check: uploads.FileCheck, file: SimpleUploadedFile) -> str:
    with pytest.raises(ValidationError) as caught:
        check.check(file)
    return " ".join(caught.value.messages)


def test_a_whole_pdf_is_accepted_as_a_pdf() -> None:
    assert MEMORANDUM.check(upload(pdf_document(pages=3))) is uploads.PDF


def test_an_html_page_named_pdf_is_refused() -> None:
    page = upload(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", content_type="text/html")

    assert refusal(MEMORANDUM, page) == "The file must be a PDF file."


def test_an_html_page_behind_a_pdf_header_is_refused() -> None:
    disguised = upload(b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n")

    assert "damaged or incomplete" in refusal(MEMORANDUM, disguised)


@pytest.mark.parametrize("kept", [0.3, 0.6, 0.9, 0.99])
def test_a_truncated_pdf_is_refused(kept: float) -> None:
    whole = pdf_document(pages=3)

    message = refusal(MEMORANDUM, upload(whole[: int(len(whole) * kept)]))

    assert message == "The PDF is damaged or incomplete; save or export it again and upload the new file."


def test_a_pdf_whose_page_content_is_garbled_is_refused() -> None:
    # Structure intact, one page's compressed content overwritten: pypdf reads on and only logs
    # that it could not decompress, which the check hears.
    whole = pdf_document(pages=2)
    start = whole.index(b"stream\n") + len(b"stream\n")
    garbled = whole[:start] + b"\x00garbled" * 2 + whole[start + 16 :]

    assert "damaged or incomplete" in refusal(MEMORANDUM, upload(garbled))


def test_an_encrypted_pdf_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    assert "encrypted" in refusal(MEMORANDUM, upload(buffer.getvalue()))


def test_a_pdf_without_pages_is_refused() -> None:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)

    assert refusal(MEMORANDUM, upload(buffer.getvalue())) == "The PDF has no pages."


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit() -> None:
    small = uploads.FileCheck(uploads.PDF, max_bytes=2 * 1024 * 1024)
    oversize = upload(pdf_document() + b"\n" * (3 * 1024 * 1024))

    assert refusal(small, oversize) == "The file is 3.0\xa0MB; the limit is 2.0\xa0MB."


def test_the_memorandum_limit_is_ten_megabytes() -> None:
    assert "the limit is 10.0\xa0MB" in refusal(MEMORANDUM, upload(b"%PDF-" + b"\0" * (10 * 1024 * 1024)))


def test_an_image_whose_name_says_png_but_content_is_jpeg_is_refused() -> None:
    photo = upload(JPEG_BYTES, name="photo.png", content_type="image/png")

    assert refusal(ATTACHMENT, photo) == "The file's name says png but its content is JPEG."


@pytest.mark.parametrize(
    ("content", "name", "file_type"),
    [
        (PNG_BYTES, "plan.png", uploads.PNG),
        (JPEG_BYTES, "Photo.JPG", uploads.JPEG),
        (JPEG_BYTES, "photo.jpeg", uploads.JPEG),
        (WEBP_BYTES, "map.webp", uploads.WEBP),
    ],
)
def test_an_image_whose_name_agrees_with_its_content_is_accepted(
    content: bytes, name: str, file_type: uploads.FileType
) -> None:
    assert ATTACHMENT.check(upload(content, name=name, content_type="application/octet-stream")) is file_type


def test_an_image_is_refused_where_only_pdf_is_accepted() -> None:
    assert refusal(MEMORANDUM, upload(PNG_BYTES, name="scan.png")) == "The file must be a PDF file."


def test_a_file_of_no_accepted_kind_names_every_accepted_kind() -> None:
    assert refusal(ATTACHMENT, upload(b"MZ\x90\x00", name="tool.exe")) == (
        "The file must be a PDF, PNG, JPEG or WebP file."
    )


def test_the_stored_name_is_generated_whatever_the_clients_name_and_extension() -> None:
    agreement = Agreement()
    client_file = upload(pdf_document(), name="../../Signed Memo (final).html", content_type="text/html")

    uploads.store(agreement.memorandum, client_file, check=MEMORANDUM)

    year = timezone.localdate().year
    match = re.fullmatch(rf"memoranda/{year}/([0-9a-f-]{{36}})\.pdf", agreement.memorandum.name or "")
    assert match, agreement.memorandum.name
    uuid.UUID(match.group(1))
    with agreement.memorandum.open("rb") as stored:
        assert stored.read() == pdf_document()


def test_an_image_is_stored_with_the_extension_of_its_content() -> None:
    agreement = Agreement()

    uploads.store(agreement.memorandum, upload(JPEG_BYTES, name="photo.jpeg"), check=ATTACHMENT)

    assert (agreement.memorandum.name or "").endswith(".jpg")


def test_a_file_that_skipped_the_check_is_not_stored_under_its_own_name() -> None:
    agreement = Agreement()

    with pytest.raises(ValueError, match=r"uploads\.store\(\)"):
        agreement.memorandum.save("memorandum.pdf", ContentFile(pdf_document()), save=False)


def test_a_download_is_an_attachment_of_the_stored_type_that_the_browser_may_not_sniff() -> None:
    agreement = Agreement()
    uploads.store(agreement.memorandum, upload(PNG_BYTES, name="plan.png"), check=ATTACHMENT)

    response = uploads.download(agreement.memorandum, filename="practice-4-plan")

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="practice-4-plan.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PNG_BYTES  # type: ignore[arg-type]
    assert response.file_to_stream is not None
    response.file_to_stream.close()  # what the server does once the body is sent


def test_a_download_of_a_file_the_storage_lost_is_not_found() -> None:
    agreement = Agreement()
    uploads.store(agreement.memorandum, upload(pdf_document()), check=MEMORANDUM)
    agreement.memorandum.storage.delete(agreement.memorandum.name or "")

    with pytest.raises(Http404):
        uploads.download(agreement.memorandum, filename="agreement-1-memorandum")


def test_a_download_without_a_file_is_not_found() -> None:
    with pytest.raises(Http404):
        uploads.download(Agreement().memorandum, filename="agreement-1-memorandum")


@pytest.mark.parametrize(
    ("language", "message"),
    [("ru", "Файл должен быть в формате PDF."), ("zh-hans", "文件必须是 PDF 格式。")],
)
def test_a_refusal_is_told_in_the_readers_language(language: str, message: str) -> None:
    with translation.override(language):
        assert refusal(MEMORANDUM, upload(b"<html></html>")) == message
