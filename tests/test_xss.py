"""Hostile text typed into any free-text field comes out inert on every page and in every e-mail.

The corpus is tests/data/xss.txt. FREE_TEXT_FIELDS lists the fields it goes through; a text
field that people write and that is in neither list fails test_every_text_field_is_covered, so
a new field (the practice library's, say) is added here when it is added to a model.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from notifications.models import Message
from partnerships.models import Agreement
from practices.models import Practice
from sco_portal.text import strip_bidi_controls
from tests.conftest import login
from tests.factories import AgreementFactory, TopicFactory
from tests.test_uploads import PNG_BYTES

CORPUS = [
    line.replace("\\r", "\r").replace("\\n", "\n")
    for line in (Path(__file__).parent / "data" / "xss.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]

# "app_label.Model": the fields people type into, which the corpus goes through below.
FREE_TEXT_FIELDS = {
    "partnerships.Agreement": {"title", "summary"},
    "partnerships.AgreementTransition": {"comment"},
    "partnerships.AgreementActivity": {"description"},
    "cities.City": {"description", "website", "contact_office", "contact_phone"},
    "accounts.User": {"first_name", "last_name"},
    "partnerships.AgreementTranslation": {"title", "summary"},
    "practices.Practice": {
        "title",
        "summary",
        "problem",
        "solution",
        "funding",
        "challenges",
        "success_factors",
        "transferability",
        "contact_name",
        "contact_role",
        "source_url",
    },
    "practices.PracticeTranslation": {"title", "summary"},
    "practices.PracticeTransition": {"comment"},
    "practices.PracticeIndicator": {"indicator", "unit"},
    "practices.PracticeAttachment": {"name"},  # the file name the client sent
}
# Text fields nobody types into on the portal's pages or API, and why.
NOT_TYPED_BY_PEOPLE = {
    "partnerships.Agreement": {"source"},  # set by the import command from the curated CSV
    "cities.Country": {"code", "name", "name_ru", "name_zh"},  # reference data, admin only
    "cities.CountryStatus": {"note"},  # reference data, admin only
    "cities.Topic": {"name", "name_ru", "name_zh", "slug"},  # reference data, admin only
    # GeoNames data and what the import derives from it; the e-mail address is an EmailField.
    "cities.City": {
        "name",
        "ascii_name",
        "name_ru",
        "name_zh",
        "search_names",
        "search_keys",
        "timezone",
        "region_code",
        "feature_code",
        "contact_email",
    },
    "accounts.User": {"username", "email", "password"},  # e-mail: EmailField's validation; never shown to others
    # Codes and an address, each refused unless valid (ISO 4217, ISO 639, EmailField).
    "practices.Practice": {"currency", "language", "contact_email"},
    "practices.PracticeAttachment": {"content_type"},  # judged from the file's content by the portal
    "practices.LibraryExport": {"error"},  # written by the export task
}
APPS = ("accounts", "cities", "partnerships", "practices")


def test_every_text_field_is_covered() -> None:
    uncovered = []
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        label = model._meta.label
        for field in model._meta.get_fields():
            if not isinstance(field, models.CharField | models.TextField) or field.choices:
                continue
            known = FREE_TEXT_FIELDS.get(label, set()) | NOT_TYPED_BY_PEOPLE.get(label, set())
            if field.name not in known:
                uncovered.append(f"{label}.{field.name}")
    assert uncovered == [], "add these to FREE_TEXT_FIELDS (and write them below) or NOT_TYPED_BY_PEOPLE"


class ActiveContent(HTMLParser):
    """Collects whatever in a document could run: inline scripts, event handlers, javascript: URLs,
    and elements no template of the portal writes."""

    FOREIGN = {"iframe", "object", "embed", "svg", "math", "base", "style"}

    def __init__(self, allowed: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        # A portal script is a file of its own; a json_script block is data (its text escaped).
        is_data = tag == "script" and attributes.get("type") == "application/json"
        if tag == "script" and not is_data and not (attributes.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {attrs}>")
        if tag in self.FOREIGN and tag not in self.allowed:
            self.found.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in attributes:
            self.found.append(f"<meta {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "data", "formaction") and value:
                scheme = value.strip().lower().replace("\t", "").replace("\n", "")
                if scheme.startswith(("javascript:", "data:text/html", "vbscript:")):
                    self.found.append(f"<{tag} {name}={value}>")


def active_content(document: str, allowed: set[str] | None = None) -> list[str]:
    parser = ActiveContent(allowed or set())
    parser.feed(document)
    parser.close()
    return parser.found


@dataclass
class Written:
    """What write_everything wrote the text into: a declined agreement and a published practice."""

    agreement: Agreement
    practice: Practice
    submitted: Practice


# A practice's free-text fields and how much of the text each takes.
PRACTICE_TEXT = {
    "title": 200,
    "summary": 1000,
    "problem": None,
    "solution": None,
    "funding": 300,
    "challenges": None,
    "success_factors": None,
    "transferability": None,
    "contact_name": 200,
    "contact_role": 200,
    "source_url": None,
}


def _create_practice(api: APIClient, city: int, topic: int, text: str) -> int:
    body: dict[str, Any] = {name: text[:limit] for name, limit in PRACTICE_TEXT.items()}
    body.update(
        city=city,
        topics=[topic],
        indicators=[{"indicator": text[:200], "unit": text[:50], "baseline": "1", "achieved": "2", "year": 2024}],
    )
    created = api.post("/api/v1/practices/", body, format="json")
    if created.status_code == 400:  # the source was refused as a URL: the rest still goes in
        assert set(created.json()) == {"source_url"}, created.json()
        del body["source_url"]
        created = api.post("/api/v1/practices/", body, format="json")
    assert created.status_code == 201, created.json()
    return int(created.json()["id"])


@pytest.fixture
def write_everything(
    officer: User,
    partner_officer: User,
    coordinator: User,
    partner_coordinator: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[str], Written]:
    """Writes `text` into every free-text field through the portal's own forms and API."""

    def write(text: str) -> Written:
        for person in (officer, partner_officer):
            person.first_name, person.last_name = text[:150], text[:150]
            person.save()
        api = APIClient()
        api.force_authenticate(officer)
        partner_api = APIClient()
        partner_api.force_authenticate(partner_officer)
        moderator_api = APIClient()
        moderator_api.force_authenticate(coordinator)
        translation = {"language": "ru", "title": text[:200], "summary": text[:1000]}
        with django_capture_on_commit_callbacks(execute=True):
            created = api.post(
                "/api/v1/agreements/",
                {"initiator": officer.city_id, "partner": partner_officer.city_id, "title": text, "summary": text},
                format="json",
            )
            assert created.status_code == 201, created.json()
            pk = created.json()["id"]
            translated = api.post(f"/api/v1/agreements/{pk}/translations/", translation, format="json")
            assert translated.status_code == 200, translated.json()
            assert api.post(f"/api/v1/agreements/{pk}/propose/", {"comment": text}, format="json").status_code == 200
            declined = partner_api.post(f"/api/v1/agreements/{pk}/decline/", {"comment": text}, format="json")
            assert declined.status_code == 200

            topic = TopicFactory.create(slug="xss", name="Heat").pk
            city = officer.city_id
            assert city is not None
            practice = _create_practice(api, city, topic, text)
            translated = api.post(f"/api/v1/practices/{practice}/translations/", translation, format="json")
            assert translated.status_code == 200, translated.json()
            attached = api.post(
                f"/api/v1/practices/{practice}/attachments/",
                {"file": SimpleUploadedFile(text.replace("\r\n", " ")[:150] + ".png", PNG_BYTES)},
                format="multipart",
            )
            assert attached.status_code == 201, attached.json()
            for client, move in (
                (api, "submit"),
                (moderator_api, "return"),
                (api, "submit"),
                (moderator_api, "publish"),
            ):
                moved = client.post(f"/api/v1/practices/{practice}/{move}/", {"comment": text}, format="json")
                assert moved.status_code == 200, (move, moved.json())
            submitted = _create_practice(api, city, topic, text)
            moved = api.post(f"/api/v1/practices/{submitted}/submit/", {"comment": text}, format="json")
            assert moved.status_code == 200, moved.json()
        active = AgreementFactory.create(
            initiator=officer.city, partner=partner_officer.city, status=Agreement.Status.ACTIVE, title=text
        )
        translated = api.post(f"/api/v1/agreements/{active.pk}/translations/", translation, format="json")
        assert translated.status_code == 200, translated.json()
        logged = api.post(
            f"/api/v1/agreements/{active.pk}/activities/",
            {"date": str(datetime.date.today()), "kind": "visit", "description": text[:300]},
            format="json",
        )
        assert logged.status_code == 201, logged.json()
        profile = {"description": text, "contact_office": text[:200], "contact_phone": text[:40]}
        edited = login(officer).post(f"/cities/{officer.city_id}/edit/", {**profile, "website": text})
        if edited.status_code == 200:  # the website was refused as a URL: the rest still goes in
            edited = login(officer).post(f"/cities/{officer.city_id}/edit/", profile)
        assert edited.status_code == 302
        return Written(
            agreement=Agreement.objects.get(pk=pk),
            practice=Practice.objects.get(pk=practice),
            submitted=Practice.objects.get(pk=submitted),
        )

    return write


@pytest.mark.parametrize("text", CORPUS)
def test_hostile_text_is_inert_on_every_page_and_in_every_email(
    text: str,
    write_everything: Callable[[str], Written],
    officer: User,
    partner_officer: User,
    coordinator: User,
) -> None:
    written = write_everything(text)
    agreement, practice = written.agreement, written.practice
    assert practice.status == Practice.Status.PUBLISHED
    city: City = officer.city  # type: ignore[assignment]
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru")
    pages = [
        ("/", Client()),
        ("/cities/", Client()),
        (f"/cities/{city.pk}/", Client()),
        (f"/cities/{partner_officer.city_id}/", Client()),
        (f"/cities/{city.pk}/edit/", login(officer)),
        ("/agreements/", login(officer)),
        (f"/agreements/{agreement.pk}/", login(officer)),
        (f"/agreements/{agreement.pk}/translations/ru/", login(officer)),
        ("/agreements/inbox/", login(coordinator)),
        ("/practices/", Client()),
        ("/practices/", russian),
        (f"/practices/{practice.pk}/", Client()),
        (f"/practices/{practice.pk}/", russian),
        (f"/practices/{practice.pk}/edit/", login(coordinator)),
        (f"/practices/{written.submitted.pk}/", login(coordinator)),
        (f"/practices/{written.submitted.pk}/translations/ru/", login(officer)),
        ("/practices/moderation/", login(coordinator)),
    ]
    for active in Agreement.objects.filter(status=Agreement.Status.ACTIVE):
        pages += [(f"/agreements/{active.pk}/", Client()), (f"/agreements/{active.pk}/", russian)]
    for path, client in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert active_content(response.content.decode()) == [], path

    shown = escape(strip_bidi_controls(text).strip())
    assert shown in login(officer).get(f"/agreements/{agreement.pk}/").content.decode()  # escaped, not dropped
    assert shown in Client().get(f"/practices/{practice.pk}/").content.decode()
    assert practice.indicators.get().indicator == strip_bidi_controls(text[:200])

    messages = list(Message.objects.all())
    assert {message.event for message in messages} >= {"agreement_declined", "practice_returned"}, "moves e-mailed"
    for message in messages:
        assert "\n" not in message.subject and "\r" not in message.subject, message.event
        assert active_content(message.html_body) == [], message.event


def test_bidi_controls_are_stripped_from_titles_names_and_comments(
    write_everything: Callable[[str], Written], officer: User
) -> None:
    written = write_everything("Almaty \u202etxt.exe\u202c – Bishkek \u2066x\u2069")
    agreement, practice = written.agreement, written.practice
    officer.refresh_from_db()
    city = officer.city
    assert city is not None
    city.refresh_from_db()
    texts = [
        agreement.title,
        agreement.summary,
        *agreement.transitions.values_list("comment", flat=True),
        *Agreement.objects.filter(status="active").values_list("activities__description", flat=True),
        city.description,
        city.contact_office,
        practice.title,
        practice.solution,
        *practice.transitions.values_list("comment", flat=True),
        *practice.translations.values_list("title", flat=True),
        *practice.indicators.values_list("indicator", flat=True),
        *agreement.translations.values_list("summary", flat=True),
    ]
    assert texts and all(text is not None for text in texts)
    for text in texts:
        assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in text), text
    assert agreement.title == "Almaty txt.exe – Bishkek x"
