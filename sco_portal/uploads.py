"""Files people upload: checked by their content, stored under generated names, served as downloads.

Shared by the apps that take files (signed memoranda; practice attachments next).
A field says what it takes with a `FileCheck` (the types, judged by content,
and a size limit), stores through `store()` and answers downloads with
`download()`:

    MEMORANDUM = FileCheck(PDF, max_bytes=10 * 1024 * 1024)
    memorandum = models.FileField(upload_to=GeneratedName("memoranda"), validators=[MEMORANDUM])
    store(agreement.memorandum, upload, check=MEMORANDUM)     # memoranda/2026/<uuid>.pdf
    return download(agreement.memorandum, filename=f"agreement-{agreement.pk}-memorandum")

The client's file name never reaches the storage: `store()` hands the field the
content type its check found, and `GeneratedName` turns that into a random name
with the type's own extension. A view serves a file only after fetching its
owner through the owner's `visible_to(user)` scope; nothing serves MEDIA_ROOT.
"""

from __future__ import annotations

import enum
import io
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.deconstruct import deconstructible
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader

logger = logging.getLogger(__name__)


class FileType(enum.Enum):
    """A kind of file the portal accepts: its content type, the extension stored names get,
    its name for people, and the extensions a client's file name may have for it."""

    PDF = ("application/pdf", "pdf", "PDF", frozenset({"pdf"}))
    PNG = ("image/png", "png", "PNG", frozenset({"png"}))
    JPEG = ("image/jpeg", "jpg", "JPEG", frozenset({"jpg", "jpeg"}))
    WEBP = ("image/webp", "webp", "WebP", frozenset({"webp"}))

    def __init__(self, content_type: str, extension: str, label: str, name_extensions: frozenset[str]) -> None:
        self.content_type = content_type
        self.extension = extension
        self.label = label
        self.name_extensions = name_extensions


PDF, PNG, JPEG, WEBP = FileType.PDF, FileType.PNG, FileType.JPEG, FileType.WEBP
IMAGES = (PNG, JPEG, WEBP)
_BY_CONTENT_TYPE = {file_type.content_type: file_type for file_type in FileType}
_BY_EXTENSION = {file_type.extension: file_type for file_type in FileType}

# The PDF header may come after some junk, but within the first 1024 bytes (PDF 1.7, annex H).
_PDF_HEADER_WINDOW = 1024


def _sniff(head: bytes) -> FileType | None:
    """The type the first bytes announce; only a hint, which the type's own check confirms."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return PDF
    return None


def _size(upload: File[Any]) -> int:
    if upload.size is not None:
        return upload.size
    upload.seek(0, io.SEEK_END)
    size = upload.tell()
    upload.seek(0)
    return size


def _extension(name: str | None) -> str:
    return PurePosixPath(name or "").suffix.lower().lstrip(".")


@deconstructible
class FileCheck:
    """What a file field accepts: these types, judged by the content, up to `max_bytes`.

    Use it as the field's validator (model, form and serializer alike) and pass
    it to `store()`. A PDF must be read whole by pypdf: every page, no
    encryption, nothing pypdf has to repair. An image must start with its
    format's signature and its file name must say the same format (without
    Pillow the pixels are not decoded; they are only ever served as downloads).
    """

    def __init__(self, *file_types: FileType, max_bytes: int) -> None:
        if not file_types:
            raise ValueError("A FileCheck accepts at least one file type.")
        self.file_types = file_types
        self.max_bytes = max_bytes

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FileCheck) and self.file_types == other.file_types and self.max_bytes == other.max_bytes
        )

    def __hash__(self) -> int:
        return hash((self.file_types, self.max_bytes))

    def __call__(self, upload: File[Any]) -> None:
        self.check(upload)

    def check(self, upload: File[Any]) -> FileType:
        """The type of `upload` by its content; ValidationError, saying why, when it is not accepted."""
        size = _size(upload)
        if size > self.max_bytes:
            raise ValidationError(
                _("The file is %(size)s; the limit is %(limit)s."),
                params={"size": filesizeformat(size), "limit": filesizeformat(self.max_bytes)},
                code="too_large",
            )
        # A check reads the whole file (pypdf), so its verdict is kept on the file object:
        # the validator and store() see the same upload, and the second look is free.
        file_type = getattr(upload, "_checked_type", None)
        if file_type is None:
            file_type = self._content_type(upload)
            upload._checked_type = file_type  # type: ignore[attr-defined]
        if file_type not in self.file_types:
            raise self._wrong_type()
        return file_type

    def _content_type(self, upload: File[Any]) -> FileType:
        upload.seek(0)
        head = upload.read(_PDF_HEADER_WINDOW)
        upload.seek(0)
        file_type = _sniff(head)
        if file_type is None or file_type not in self.file_types:
            raise self._wrong_type()
        if file_type is PDF:
            _check_pdf(upload)
        elif _extension(upload.name) not in file_type.name_extensions:
            raise ValidationError(
                _("The file's name says %(extension)s but its content is %(type)s."),
                params={"extension": _extension(upload.name) or "?", "type": file_type.label},
                code="extension_mismatch",
            )
        return file_type

    def _wrong_type(self) -> ValidationError:
        return ValidationError(
            _("The file must be a %(types)s file."),
            params={"types": get_text_list([file_type.label for file_type in self.file_types])},
            code="wrong_type",
        )


class _PdfRepairs(logging.Handler):
    """What pypdf had to repair or skip while this thread read a PDF.

    pypdf reads damaged files leniently and only logs what it fixed (a stream
    that does not decompress, a missing object, a rebuilt cross-reference
    table); for an archived document that is a refusal, so the check listens.
    Records from other threads (another upload checked at the same time) are
    not ours.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


# Let pypdf's warnings through whatever the root level (LOG_LEVEL=ERROR must not turn the check off).
logging.getLogger("pypdf").setLevel(logging.WARNING)


@contextmanager
def _pdf_repairs() -> Iterator[_PdfRepairs]:
    handler = _PdfRepairs()
    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.addHandler(handler)
    try:
        yield handler
    finally:
        pypdf_logger.removeHandler(handler)


def _check_pdf(upload: File[Any]) -> None:
    damaged = ValidationError(
        _("The PDF is damaged or incomplete; save or export it again and upload the new file."), code="damaged_pdf"
    )
    upload.seek(0)
    try:
        with _pdf_repairs() as repairs:
            reader = PdfReader(upload)
            if reader.is_encrypted:
                raise ValidationError(
                    _("The PDF is encrypted or password-protected; upload it without protection."), code="encrypted_pdf"
                )
            if len(reader.pages) == 0:
                raise ValidationError(_("The PDF has no pages."), code="empty_pdf")
            for page in reader.pages:
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()
    except ValidationError:
        raise
    except Exception as error:
        # pypdf meets malformed input with many kinds of exceptions (its own, but also
        # ValueError, KeyError, zlib.error, RecursionError...): each means "not readable".
        logger.info("PDF refused: %r", error)
        raise damaged from error
    finally:
        upload.seek(0)
    if repairs.messages:
        logger.info("PDF refused, pypdf had to repair it: %s", "; ".join(repairs.messages))
        raise damaged


@deconstructible
class GeneratedName:
    """`upload_to` for files stored through `store()`: `<folder>/<year>/<uuid>.<extension>`.

    The extension is that of the content type the field's check found, which
    `store()` passes here in place of a file name; anything else (a client's
    file name, from a path that skipped `store()`) is a programming error.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder.strip("/")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GeneratedName) and self.folder == other.folder

    def __hash__(self) -> int:
        return hash(self.folder)

    def __call__(self, instance: Any, content_type: str) -> str:
        file_type = _BY_CONTENT_TYPE.get(content_type)
        if file_type is None:
            raise ValueError(
                f"{self.folder}: files are stored through sco_portal.uploads.store(), not under a given name "
                f"({content_type!r})."
            )
        return f"{self.folder}/{timezone.localdate().year}/{uuid.uuid4()}.{file_type.extension}"


def store(field_file: FieldFile, upload: File[Any], *, check: FileCheck, save: bool = False) -> FileType:
    """Save `upload` into the file field under a generated name; refuse it (ValidationError) if `check` does."""
    file_type = check.check(upload)
    upload.seek(0)
    field_file.save(file_type.content_type, upload, save=save)
    return file_type


def download(field_file: FieldFile, *, filename: str) -> FileResponse:
    """Answer a stored file as a download named `<filename>.<extension>`; 404 when there is none.

    The caller has already checked that the reader may see the file's owner.
    """
    name = field_file.name
    if not name:
        raise Http404(_("There is no file here."))
    file_type = _BY_EXTENSION.get(_extension(name))
    try:
        handle: IO[bytes] = field_file.storage.open(name, "rb")
    except FileNotFoundError as error:
        # The database names a file the storage does not have: a lost upload, worth an alarm.
        logger.error("Stored file %s is missing", name)
        raise Http404(_("There is no file here.")) from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.{file_type.extension}" if file_type else filename,
        content_type=file_type.content_type if file_type else "application/octet-stream",
    )
    # The browser must take the declared type, never guess (an upload that looks like HTML).
    response["X-Content-Type-Options"] = "nosniff"
    # Served after a permission check: no shared cache may keep it for the next person.
    patch_cache_control(response, private=True)
    return response
