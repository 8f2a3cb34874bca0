"""The offline map: its data (cities, lines styled by state, filters' names) and, in Chromium, a full map drawn
with every request outside the portal refused."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from cities.models import City
from cities.services import import_cities, load_reference_data
from partnerships.models import Agreement
from partnerships.services import import_agreements
from tests.browser import DESKTOP, PHONE, chromium, screenshot
from tests.conftest import login
from tests.factories import AgreementFactory, CityFactory, days_from_today

TWINNINGS = Path(__file__).resolve().parent.parent / "data" / "sco_twinnings.csv"


def lines_by_id(client: Client) -> dict[int, list[object]]:
    return {row[0]: row for row in client.get("/map/data.json").json()["agreements"]}


def test_map_data_styles_active_proposed_and_dormant_lines(
    almaty_city: City, bishkek_city: City, officer: User
) -> None:
    tashkent, dushanbe = CityFactory.create(name="Tashkent"), CityFactory.create(name="Dushanbe")
    active = AgreementFactory.create(initiator=almaty_city, partner=bishkek_city, status=Agreement.Status.ACTIVE)
    active.activities.create(date=days_from_today(-30), kind="visit", description="Visit")
    proposed = AgreementFactory.create(initiator=almaty_city, partner=tashkent, status=Agreement.Status.PROPOSED)
    dormant = AgreementFactory.create(
        initiator=almaty_city, partner=dushanbe, status=Agreement.Status.ACTIVE, signed_on=days_from_today(-800)
    )

    lines = lines_by_id(login(officer))
    public = lines_by_id(Client())

    assert (lines[active.pk][3], lines[proposed.pk][3], lines[dormant.pk][3]) == ("active", "proposed", "dormant")
    assert lines[active.pk][1:3] == [almaty_city.pk, bishkek_city.pk]
    assert proposed.pk not in public  # a proposal is seen by those concerned only
    data = Client().get("/map/data.json").json()
    assert [almaty_city.pk, "Almaty", 43.252, 76.912, "KZ"] in data["cities"]


def test_map_data_names_cities_in_the_readers_language(almaty_city: City) -> None:
    client = Client()
    client.cookies["django_language"] = "zh-hans"

    data = client.get("/map/data.json").json()

    assert data["cities"][0][1] == "阿拉木图"
    assert ["KZ", "哈萨克斯坦"] in data["countries"]


@pytest.mark.browser
def test_full_map_draws_offline_with_the_almaty_bishkek_line(
    live_server: LiveServer, transactional_db: None, tmp_path: Path
) -> None:
    load_reference_data()
    import_cities()
    import_agreements(path=TWINNINGS)
    line = Agreement.objects.between(City.objects.get(geonameid=1526384), City.objects.get(geonameid=1528675)).get()
    assert City.objects.count() > 8000 and Agreement.objects.count() > 400

    with chromium(live_server.url) as browser:
        for language, viewport in (("en", DESKTOP), ("ru", PHONE)):
            page, outside = browser.page(language=language, viewport=viewport)
            page.goto(f"{live_server.url}/map/")
            page.wait_for_selector("#map[data-drawn]")
            page.wait_for_selector(f"path.agreement-{line.pk}")

            assert page.locator(f"path.agreement-{line.pk}").count() == 1
            assert page.locator(".marker-cluster").count() > 5
            screenshot(page, f"map-{language}-{viewport['width']}", tmp_path)
            # A filter by country keeps the lines that touch it.
            page.select_option("#map-country", "KG")
            assert page.locator(f"path.agreement-{line.pk}").count() == 1
            page.select_option("#map-country", "BY")
            assert page.locator(f"path.agreement-{line.pk}").count() == 0
            assert outside == [], f"the map asked for {outside}"


@pytest.mark.browser
def test_city_page_draws_a_small_map_of_its_partners(
    live_server: LiveServer, almaty_city: City, bishkek_city: City, tmp_path: Path
) -> None:
    agreement = AgreementFactory.create(
        initiator=almaty_city, partner=bishkek_city, status=Agreement.Status.ACTIVE, signed_on=datetime.date.today()
    )

    with chromium(live_server.url) as browser:
        page, outside = browser.page(viewport=PHONE)
        page.goto(f"{live_server.url}{almaty_city.get_absolute_url()}")
        page.wait_for_selector(".partner-map[data-drawn]")

        assert page.locator(f".partner-map path.agreement-{agreement.pk}").count() == 1
        assert outside == []
        screenshot(page, "city-partner-map-en-375", tmp_path)
