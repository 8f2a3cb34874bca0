"""A small world for matching: cities in four countries around Central Asia, and one real partnership."""

from __future__ import annotations

from typing import Any

import pytest

from cities.models import City
from partnerships.models import Agreement
from tests.factories import AgreementFactory, CityFactory, CountryFactory, TopicFactory

# name, country, population, latitude, longitude, GeoNames region code and feature code
TOWNS = [
    ("Tashkent", "UZ", 2_500_000, 41.31, 69.28, "13", "PPLC"),
    ("Samarkand", "UZ", 550_000, 39.65, 66.96, "10", "PPLA"),
    ("Osh", "KG", 320_000, 40.53, 72.80, "08", "PPLA"),
    ("Shymkent", "KZ", 1_000_000, 42.30, 69.60, "10", "PPLA"),
    ("Kazan", "RU", 1_250_000, 55.79, 49.12, "73", "PPLA"),
    ("Novosibirsk", "RU", 1_600_000, 55.03, 82.92, "53", "PPLA"),
    ("Urumqi", "CN", 3_500_000, 43.80, 87.60, "13", "PPLA"),
    ("Kashgar", "CN", 500_000, 39.47, 75.99, "13", "PPLA2"),
]


@pytest.fixture
def world(almaty_city: City, bishkek_city: City) -> dict[str, Any]:
    """Almaty and Bishkek with eight more cities, a topic, and Almaty–Tashkent as an active partnership."""
    cities = {"Almaty": almaty_city, "Bishkek": bishkek_city}
    for name, code, population, latitude, longitude, region_code, feature_code in TOWNS:
        cities[name] = CityFactory.create(
            name=name,
            country=CountryFactory.create(code=code),
            population=population,
            latitude=latitude,
            longitude=longitude,
            region_code=region_code,
            feature_code=feature_code,
        )
    AgreementFactory.create(
        initiator=cities["Almaty"], partner=cities["Tashkent"], status=Agreement.Status.ACTIVE, source="test"
    )
    AgreementFactory.create(
        initiator=cities["Tashkent"], partner=cities["Kazan"], status=Agreement.Status.ACTIVE, source="test"
    )
    return {"cities": cities, "topic": TopicFactory.create(slug="waste", name="Waste management")}
