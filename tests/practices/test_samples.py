"""The sample practices `make run` publishes: real programmes, marked as samples, never created twice."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import Client

from cities.models import City
from practices.models import Practice
from tests.factories import CityFactory, TopicFactory

SAMPLES = Path(settings.BASE_DIR) / "data" / "sample_practices.json"


def test_every_sample_is_valid_and_loads_once(db: None) -> None:
    records = json.loads(SAMPLES.read_text(encoding="utf-8"))
    for record in records:
        CityFactory.create(geonameid=record["geonameid"])
        for slug in record["topics"]:
            TopicFactory.create(slug=slug, name=slug)

    call_command("load_sample_practices")
    call_command("load_sample_practices")

    samples = Practice.objects.filter(is_sample=True)
    assert samples.count() == len(records) >= 18
    assert not samples.exclude(status="published").exists()
    assert not samples.filter(source_url="").exists()
    assert samples.filter(indicators__isnull=False).distinct().count() >= len(records) - 1
    assert set(samples.values_list("language", flat=True)) == {"en", "ru", "zh"}


def test_a_sample_whose_city_is_missing_is_reported_and_skipped(almaty_city: City, capsys: object) -> None:
    TopicFactory.create(slug="public-transport", name="Public transport")

    call_command("load_sample_practices")

    sample = Practice.objects.get()
    assert sample.city == almaty_city and sample.is_sample
    page = Client().get(sample.get_absolute_url()).content.decode()
    assert "Sample content" in page and sample.source_url in page
    assert "skipped" in capsys.readouterr().err  # type: ignore[attr-defined]
