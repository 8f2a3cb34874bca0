from __future__ import annotations

import datetime
import io

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject

from accounts.models import User
from cities.models import City, Country, CountryStatus, Topic
from notifications.models import Message
from partnerships import events as agreement_events
from partnerships.models import Agreement
from practices.models import Practice


def days_from_today(days: int) -> datetime.date:
    """A date relative to today, so tests keep passing as the calendar moves on."""
    return timezone.localdate() + datetime.timedelta(days=days)


class CountryFactory(DjangoModelFactory[Country]):
    class Meta:
        model = Country
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = "KZ"
    name = factory.LazyAttribute(lambda country: f"Country {country.code}")

    @factory.post_generation
    def member_since(country: Country, create: bool, extracted: datetime.date | None, **kwargs: object) -> None:
        if create and not country.status_history.exists():
            CountryStatus.objects.create(
                country=country, status=CountryStatus.Status.MEMBER, since=extracted or datetime.date(2001, 6, 15)
            )


class TopicFactory(DjangoModelFactory[Topic]):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Topic {n}")


class CityFactory(DjangoModelFactory[City]):
    """A city; the personas use real GeoNames rows (Almaty, Bishkek...) with their real ids."""

    class Meta:
        model = City
        django_get_or_create = ("geonameid",)

    geonameid = factory.Sequence(lambda n: 90_000_000 + n)
    name = factory.Sequence(lambda n: f"Town {n}")
    name_ru = ""
    name_zh = ""
    ascii_name = factory.LazyAttribute(lambda city: city.name)
    search_names = factory.LazyAttribute(lambda city: City.fold_names(city.name, city.name_ru, city.name_zh))
    search_keys = factory.LazyAttribute(lambda city: City.fold_keys(*city.search_names.split("\n")))
    country = factory.SubFactory(CountryFactory)
    population = 100_000
    latitude = 43.0
    longitude = 76.0
    timezone = "Asia/Almaty"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("a-long-test-password")


class MessageFactory(DjangoModelFactory[Message]):
    """An outbox row in a given state; real code makes them with notifications.services.notify()."""

    class Meta:
        model = Message

    recipient = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda message: message.recipient.email)
    language = "en"
    event = agreement_events.SIGNED
    occurrence = factory.Sequence(lambda n: f"agreement:{n}:transition:1")
    dedupe_key = factory.Sequence(lambda n: f"{n:064x}")
    subject = factory.Sequence(lambda n: f"Partnership signed: Agreement {n}")
    text_body = "The partnership is signed.\n"
    html_body = "<p>The partnership is signed.</p>"
    action_url = "http://127.0.0.1:8000/partnerships/1/"


def almaty() -> City:
    return CityFactory.create(
        geonameid=1526384,
        name="Almaty",
        ascii_name="Almaty",
        name_ru="Алматы",
        name_zh="阿拉木图",
        country=CountryFactory.create(code="KZ", name="Kazakhstan", name_ru="Казахстан", name_zh="哈萨克斯坦"),
        population=1977011,
        latitude=43.25249,
        longitude=76.9115,
    )


def bishkek() -> City:
    return CityFactory.create(
        geonameid=1528675,
        name="Bishkek",
        ascii_name="Bishkek",
        name_ru="Бишкек",
        name_zh="比什凯克",
        country=CountryFactory.create(code="KG", name="Kyrgyzstan", name_ru="Киргизия", name_zh="吉尔吉斯斯坦"),
        population=900000,
        latitude=42.87,
        longitude=74.59,
        timezone="Asia/Bishkek",
    )


class AgreementFactory(DjangoModelFactory[Agreement]):
    class Meta:
        model = Agreement

    initiator = factory.SubFactory(CityFactory)
    partner = factory.SubFactory(CityFactory)
    title = factory.LazyAttribute(lambda agreement: f"{agreement.initiator.name} – {agreement.partner.name}")
    kind = Agreement.Kind.SISTER_CITY
    status = Agreement.Status.DRAFT
    signed_on = factory.LazyAttribute(
        lambda agreement: days_from_today(-3 * 365) if agreement.status in Agreement.SIGNED else None
    )


def pdf_document(pages: int = 2) -> bytes:
    """A real PDF, as a scanner or a word processor would write one: pages with compressed content."""
    writer = PdfWriter()
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 12 Tf 72 720 Td (Memorandum of understanding, page {number}) Tj ET".encode())
        page.replace_contents(content.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class PracticeFactory(DjangoModelFactory[Practice]):
    """A practice in a given status; published ones get their publication time, as the publish move would."""

    class Meta:
        model = Practice
        skip_postgeneration_save = True

    city = factory.SubFactory(CityFactory)
    title = factory.Sequence(lambda n: f"Practice {n}")
    summary = "What the city did, in short."
    problem = "What was wrong."
    solution = "What was done."
    status = Practice.Status.DRAFT
    published_at = factory.LazyAttribute(
        lambda practice: (
            timezone.now() if practice.status in (Practice.Status.PUBLISHED, Practice.Status.ARCHIVED) else None
        )
    )

    @factory.post_generation
    def topics(practice: Practice, create: bool, extracted: list[Topic] | None, **kwargs: object) -> None:
        if create:
            practice.topics.set(
                extracted if extracted is not None else [TopicFactory.create(slug="waste", name="Waste")]
            )
