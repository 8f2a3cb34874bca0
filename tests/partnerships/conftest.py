from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cities.models import City
from partnerships.models import Agreement
from tests.factories import AgreementFactory, pdf_document

PDF_BYTES = pdf_document()


def pdf(name: str = "memorandum.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def pdf_file() -> io.BytesIO:
    handle = io.BytesIO(PDF_BYTES)
    handle.name = "memorandum.pdf"
    return handle


@pytest.fixture
def agreement_in(almaty_city: City, bishkek_city: City) -> Callable[..., Agreement]:
    """An Almaty–Bishkek agreement (Almaty initiated) in the given status."""

    def make(status: str, **fields: Any) -> Agreement:
        return AgreementFactory.create(initiator=almaty_city, partner=bishkek_city, status=status, **fields)

    return make


@pytest.fixture
def sent_notifications(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The notify() calls the partnerships services make, in order."""
    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> list[Any]:
        calls.append({**kwargs, "recipients": sorted(user.username for user in kwargs["recipients"])})
        return []

    monkeypatch.setattr("partnerships.services.notify", record)
    return calls
