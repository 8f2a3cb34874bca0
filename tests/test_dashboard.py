"""The dashboard: partnerships by country pair, by status and year, dormant ones, days from proposal to approval,
published practices by topic and country; each chart with its table and a CSV."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from cities.models import City, Country
from partnerships.models import Agreement, AgreementTransition
from practices.models import Practice
from tests.conftest import login
from tests.factories import (
    AgreementFactory,
    CityFactory,
    CountryFactory,
    PracticeFactory,
    TopicFactory,
    days_from_today,
)


@pytest.fixture
def agreements(almaty_city: City, bishkek_city: City) -> dict[str, Agreement]:
    tashkent = CityFactory.create(name="Tashkent", country=CountryFactory.create(code="UZ", name="Uzbekistan"))
    osh = CityFactory.create(name="Osh", country=Country.objects.get(code="KG"))
    signed = AgreementFactory.create(
        initiator=almaty_city, partner=bishkek_city, status=Agreement.Status.ACTIVE, signed_on=datetime.date(2019, 5, 1)
    )
    signed.activities.create(date=days_from_today(-10), kind="visit", description="Visit")
    dormant = AgreementFactory.create(
        initiator=almaty_city, partner=osh, status=Agreement.Status.ACTIVE, signed_on=days_from_today(-900)
    )
    proposed = AgreementFactory.create(initiator=almaty_city, partner=tashkent, status=Agreement.Status.PROPOSED)
    # Approval took 10 days for one agreement and 20 for the other: a median of 15.
    start = timezone.now() - datetime.timedelta(days=400)
    for agreement, days in ((signed, 10), (dormant, 20)):
        AgreementTransition.objects.create(
            agreement=agreement, move="propose", from_status="draft", to_status="proposed", created_at=start
        )
        AgreementTransition.objects.create(
            agreement=agreement,
            move="approve",
            from_status="under_review",
            to_status="approved",
            created_at=start + datetime.timedelta(days=days),
        )
    return {"signed": signed, "dormant": dormant, "proposed": proposed}


def rows(response: object) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def test_dashboard_shows_each_number_as_a_chart_and_a_table(agreements: dict[str, Agreement], officer: User) -> None:
    page = Client().get("/dashboard/").content.decode()

    assert page.count('<svg class="chart"') == 3  # status, years, approval
    assert "Median: 15.0 days, over 2 approved agreements." in page
    assert agreements["dormant"].get_absolute_url() in page
    assert agreements["signed"].get_absolute_url() not in page.split('id="dormant"')[1].split("</section>")[0]
    # A visitor's numbers leave out what they may not see: the proposal is the officer's.
    assert "2 partnerships in force or in progress." in page
    assert "3 partnerships in force or in progress." in login(officer).get("/dashboard/").content.decode()


def test_dashboard_csvs(agreements: dict[str, Agreement]) -> None:
    client = Client()

    assert rows(client.get("/dashboard/pairs.csv")) == [
        ["country", "partner_country", "partnerships"],
        ["KG", "KZ", "2"],
    ]
    assert ["active", "Active", "2"] in rows(client.get("/dashboard/status.csv"))
    years = rows(client.get("/dashboard/years.csv"))
    assert years[1] == ["2019", "1"] and years[-1][0] == str(timezone.localdate().year)
    assert [row[0] for row in rows(client.get("/dashboard/dormant.csv"))[1:]] == [str(agreements["dormant"].pk)]
    approval = rows(client.get("/dashboard/approval.csv"))
    assert approval[1] == ["", "15.0", "2"] and ["KZ", "15.0", "2"] in approval
    assert client.get("/dashboard/nothing.csv").status_code == 404


def test_dashboard_in_russian_writes_numbers_and_plurals_the_russian_way(agreements: dict[str, Agreement]) -> None:
    client = Client()
    client.cookies["django_language"] = "ru"

    page = client.get("/dashboard/").content.decode()

    assert "Медиана: 15,0 дн. по 2 одобренным соглашениям." in page
    assert "2 партнёрства действуют или готовятся." in page
    assert "Соглашения по статусу" in page


@pytest.fixture
def practices(almaty_city: City, bishkek_city: City) -> None:
    transport = TopicFactory.create(slug="transport", name="Transport")
    water = TopicFactory.create(slug="water", name="Water")
    published = Practice.Status.PUBLISHED
    for city, status, topics in (
        (almaty_city, published, [transport, water]),
        (almaty_city, published, [transport]),
        (bishkek_city, published, [transport]),
        (almaty_city, Practice.Status.DRAFT, [water]),  # its officers see it: still not counted
        (bishkek_city, Practice.Status.ARCHIVED, [water]),
    ):
        PracticeFactory.create(city=city, status=status).topics.set(topics)


def test_dashboard_counts_published_practices_by_topic_and_country(practices: None, officer: User) -> None:
    for client in (Client(), login(officer)):
        page = client.get("/dashboard/").content.decode()
        section = page.split('<section id="practices">')[1].split("</section>")[0]
        assert section.count('<svg class="chart"') == 2
        assert "3 published practices." in section
        assert '?topic=transport">Transport</a></td><td class="number">3</td>' in section
        assert '?topic=water">Water</a></td><td class="number">1</td>' in section
        assert '?country=KZ">Kazakhstan</a></td><td class="number">2</td>' in section
        assert '?country=KG">Kyrgyzstan</a></td><td class="number">1</td>' in section

    client = Client()
    assert rows(client.get("/dashboard/practice-topics.csv")) == [
        ["topic", "label", "practices"],
        ["transport", "Transport", "3"],
        ["water", "Water", "1"],
    ]
    assert rows(client.get("/dashboard/practice-countries.csv")) == [
        ["country", "name", "practices"],
        ["KZ", "Kazakhstan", "2"],
        ["KG", "Kyrgyzstan", "1"],
    ]


def test_dashboard_without_practices_says_so(agreements: dict[str, Agreement]) -> None:
    section = Client().get("/dashboard/").content.decode().split('<section id="practices">')[1]
    assert "No practice is published yet." in section and "<svg" not in section.split("</section>")[0]
    assert rows(Client().get("/dashboard/practice-topics.csv")) == [["topic", "label", "practices"]]
