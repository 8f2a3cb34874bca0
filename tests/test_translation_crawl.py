"""Every page, crawled in Russian and in Chinese as a visitor, an officer and a coordinator: none fails and
none shows English.

The crawl starts at the home page and the main lists and follows the portal's own links, a bounded
number of pages. A page fails the check when a piece of its text (a text node, or a `title`,
`placeholder`, `aria-label` or `alt`) has a Latin-letter word that is not a proper name or a code
of the allow-list below, or a word of the people's own content (an agreement's title in its
original language, a username, an e-mail address).
"""

from __future__ import annotations

import datetime
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client

from accounts.models import User
from cities.models import City, Country, Topic
from cities.services import load_reference_data
from partnerships.models import Agreement, AgreementActivity
from tests.factories import AgreementFactory, CityFactory, UserFactory, almaty, bishkek, days_from_today

# Proper names and codes a Russian or Chinese page may show in Latin letters.
ALLOWED_WORDS = {
    "English",  # the language switcher names each language in itself
    "GeoNames",
    "CC",
    "BY",
    "API",
    "PDF",
    "CSV",
    "OpenAPI",
    "JavaScript",
    "JSON",
    "UTC",
    "Api-Key",
    "Api",
    "Key",
    "KZ",
    "KG",
    "e-mail",
    "ISO",
    "alpha",  # "ISO 3166 alpha-2", a code's name
    "KZT",  # ISO 4217 currency codes in a field's example, the one the reader's language suggests
    "CNY",
    "RUB",
    "SDG",  # the UN's Sustainable Development Goals, named so in every language
    "PNG",
    "JPEG",
    "WebP",
    "MB",  # megabytes, written so in Chinese
    "E",  # CLDR's Chinese name of Interlingue, 国际文字（E）
    "Kazan",  # the search box's example: a name in each script
    "Xi'an",
}
# Pages the crawl does not open: other apps' own screens (the admin, the API docs), and moves that need a POST.
SKIPPED_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/", "/media/", "/accounts/logout/")
MAX_PAGES = 60
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*[A-Za-z]|[A-Za-z]")


class _PageText(HTMLParser):
    """The visible text of a page, the attributes people read, and the links it offers."""

    READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in self.READ_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


# An ISO 8601 time in a field's example ("2026-01-31T12:00:00Z") is a format, not English.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:]+Z")


def english_in(texts: list[str], allowed: set[str]) -> list[str]:
    return [
        text
        for text in texts
        if any(
            word not in allowed and word.lower() not in allowed for word in LATIN_WORD.findall(ISO_TIME.sub("", text))
        )
    ]


def _without(text: str, content: list[str]) -> str:
    for piece in content:
        text = text.replace(piece, "")
    return text


def crawl(client: Client, starts: list[str], allowed: set[str]) -> dict[str, list[str]]:
    """Problems by page: a status other than 200, or the texts with English in them."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        if response.status_code != 200:
            problems[url] = [f"status {response.status_code}"]
            continue
        if not response["Content-Type"].startswith("text/html"):
            continue
        parser = _PageText()
        parser.feed(response.content.decode())
        found = english_in(parser.texts, allowed)
        if found:
            problems[url] = found
        for href in parser.links:
            link, _fragment = urldefrag(href)
            parts = urlsplit(link)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIPPED_PREFIXES):
                continue
            # The same list with other filters or another page: a few of each are enough.
            shape = re.sub(r"\d+", "N", parts.path) + ("?" if parts.query else "")
            shapes[shape] = shapes.get(shape, 0) + 1
            if shapes[shape] <= 4:
                queue.append(link)
    return problems


@pytest.fixture
def portal(db: None) -> dict[str, User]:
    """Reference data as `make run` loads it, two cities, agreements in several states and three people."""
    load_reference_data()
    city, partner = almaty(), bishkek()
    city.description = "Алматы — крупнейший город Казахстана."
    city.save()
    city.needs.set(Topic.objects.all()[:2])
    city.expertise.set(Topic.objects.all()[2:4])
    active = AgreementFactory.create(
        initiator=city,
        partner=partner,
        title="Алматы – Бишкек",
        status=Agreement.Status.ACTIVE,
        start_date=days_from_today(-400),
        end_date=days_from_today(400),
    )
    active.topics.set(Topic.objects.all()[:1])
    AgreementActivity.objects.create(
        agreement=active, date=days_from_today(-10), kind=AgreementActivity.Kind.VISIT, description="Визит делегации"
    )
    tashkent = CityFactory.create(
        geonameid=1512569,
        name="Tashkent",
        name_ru="Ташкент",
        name_zh="塔什干",
        country=Country.objects.get(code="UZ"),
        timezone="Asia/Tashkent",
    )
    AgreementFactory.create(
        initiator=city, partner=tashkent, title="Алматы – Ташкент", status=Agreement.Status.PROPOSED
    )
    dushanbe, minsk = (
        CityFactory.create(
            geonameid=geonameid, name=name, name_ru=name_ru, name_zh=name_zh, country=Country.objects.get(code=code)
        )
        for geonameid, name, name_ru, name_zh, code in (
            (1221874, "Dushanbe", "Душанбе", "杜尚别", "TJ"),
            (625144, "Minsk", "Минск", "明斯克", "BY"),
        )
    )
    AgreementFactory.create(
        initiator=city, partner=dushanbe, title="Алматы – Душанбе", status=Agreement.Status.UNDER_REVIEW
    )
    AgreementFactory.create(initiator=city, partner=minsk, title="Алматы – Минск", status=Agreement.Status.DRAFT)
    # A city that no source names in Russian or Chinese: its page says it shows the GeoNames name.
    CityFactory.create(
        geonameid=1256913, name="Sehore", country=Country.objects.get(code="IN"), timezone="Asia/Kolkata"
    )
    return {
        "officer": UserFactory.create(username="officer.almaty", role=User.Role.OFFICER, city=city),
        "coordinator": UserFactory.create(
            username="coordinator.kz", role=User.Role.NATIONAL_COORDINATOR, country=city.country
        ),
        "staff": UserFactory.create(username="admin", is_staff=True, is_superuser=True),
    }


# Not crawled: /accounts/password_reset/ and the pages after it. No page links there, and Django serves them
# with the admin's templates ("Django administration"); the portal does not offer password reset by e-mail.
STARTS = ["/", "/cities/", "/agreements/", "/accounts/login/", "/map/", "/dashboard/"]
SIGNED_IN_STARTS = [*STARTS, "/agreements/inbox/", "/notifications/preferences/", "/accounts/password_change/"]
# An officer's form that no link of the fixture's pages leads to: a new proposal.
OFFICER_STARTS = ["/agreements/new/{tashkent}/"]


@pytest.mark.parametrize("language", ["ru", "zh-hans"])
@pytest.mark.parametrize("persona", ["visitor", "officer", "coordinator", "staff"])
def test_no_page_shows_english_or_fails(portal: dict[str, User], language: str, persona: str) -> None:
    client = Client()
    allowed = set(ALLOWED_WORDS)
    if persona == "visitor":
        client.cookies["django_language"] = language
        starts = STARTS
    else:
        person = portal[persona]
        person.language = language
        person.save(update_fields=["language"])
        client.force_login(person)
        allowed |= {person.username, *person.username.split("."), *LATIN_WORD.findall(person.email)}
        starts = SIGNED_IN_STARTS
        if persona == "staff":
            starts = [*starts, "/notifications/outbox/"]
        if persona == "officer":
            tashkent = City.objects.get(name="Tashkent").pk
            starts = [*starts, *(start.format(tashkent=tashkent) for start in OFFICER_STARTS)]
    cities = City.objects.select_related("country")
    # A city page shows the city's names in every script, its country's code and its time zone.
    for city in cities:
        allowed |= {*LATIN_WORD.findall(city.name), city.country.code, *LATIN_WORD.findall(city.timezone)}
    starts = [*starts, *(city.get_absolute_url() for city in cities)]

    problems = crawl(client, starts, allowed)

    assert not problems, "\n".join(f"{url}: {texts}" for url, texts in problems.items())


@pytest.mark.parametrize("language", ["ru", "zh-hans"])
def test_no_email_shows_english(almaty_city: City, bishkek_city: City, language: str) -> None:
    """Every e-mail the apps register, rendered for a reader of `language`: subject, text and HTML."""
    from notifications.services import render_email
    from tests.notifications.test_notify import all_contexts

    reader = UserFactory.create(username="reader", language=language)
    # The stand-ins' content (a title, a comment; a stand-in's status label) is the people's, in English there.
    content = [
        "Almaty and Bishkek: clean air",
        "Bus lanes in a year",
        "Please add the costs.",
        "900 km apart",
        "Proposed",
    ]
    allowed = {*ALLOWED_WORDS, "reader", "example", "org", "Almaty", "Bishkek"}
    problems = {}
    for event, context in all_contexts(almaty_city, bishkek_city).items():
        email = render_email(event=event, recipient=reader, context=context)
        parser = _PageText()
        parser.feed(email.html)
        lines = [email.subject, *email.text.splitlines(), *parser.texts]
        found = english_in([_without(re.sub(r"https?://\S+", "", line), content) for line in lines], allowed)
        if found:
            problems[event] = found
    assert not problems, "\n".join(f"{event}: {texts}" for event, texts in problems.items())


@pytest.mark.parametrize(
    ("count", "russian"), [(1, "1 город"), (21, "21 город"), (3, "3 города"), (5, "5 городов"), (11, "11 городов")]
)
def test_russian_counts_take_the_right_plural_form(count: int, russian: str) -> None:
    from django.utils import translation

    with translation.override("ru"):
        assert translation.ngettext("%(counter)s city", "%(counter)s cities", count) % {"counter": count} == russian


@pytest.mark.parametrize(
    ("language", "signed", "population"),
    [("ru", "2021 г.", "1\xa0977\xa0011"), ("zh-hans", "2021年", "1,977,011"), ("en", ", 2021", "1,977,011")],
)
def test_dates_and_numbers_are_written_the_readers_way(
    portal: dict[str, User], language: str, signed: str, population: str
) -> None:
    agreement = Agreement.objects.get(status=Agreement.Status.ACTIVE)
    agreement.signed_on = datetime.date(2021, 9, 16)
    agreement.save()
    client = Client()
    client.cookies["django_language"] = language

    assert signed in client.get(agreement.get_absolute_url()).content.decode()
    assert population in client.get(agreement.initiator.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("language", "heading"), [("ru", "Страница не найдена"), ("zh-hans", "页面未找到")])
def test_the_not_found_page_is_in_the_readers_language(db: None, language: str, heading: str) -> None:
    client = Client()
    client.cookies["django_language"] = language
    response = client.get("/cities/987654/")

    assert response.status_code == 404
    parser = _PageText()
    parser.feed(response.content.decode())
    assert not english_in(parser.texts, ALLOWED_WORDS)
