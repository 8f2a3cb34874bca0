"""compute_suggestions and evaluate_matching, on a small world."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from matching.models import PendingRecompute, RecomputeRun, Suggestion
from tests.factories import CityFactory, CountryFactory

pytestmark = pytest.mark.django_db


def test_compute_suggestions_fills_every_city_and_then_one(world: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("compute_suggestions", stdout=out)
    assert "suggestions for 10 cities" in out.getvalue()
    almaty = world["cities"]["Almaty"]
    before = list(Suggestion.objects.filter(city=almaty).values_list("rank", "candidate_id", "score"))
    Suggestion.objects.filter(city=almaty).delete()
    PendingRecompute.objects.create(city=almaty)  # a change's, its task still to come
    call_command("compute_suggestions", "--city", str(almaty.pk), stdout=out)
    assert list(Suggestion.objects.filter(city=almaty).values_list("rank", "candidate_id", "score")) == before
    assert not PendingRecompute.objects.exists()  # taken: the task would compute the same again


def test_compute_suggestions_that_fails_closes_its_run(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise ValueError("the inputs are broken")

    monkeypatch.setattr("matching.services.runs.rank_rows", broken)
    with pytest.raises(ValueError):
        call_command("compute_suggestions", stdout=io.StringIO())
    run = RecomputeRun.objects.get()
    assert run.status == RecomputeRun.Status.FAILED
    assert run.error == "compute_suggestions: ValueError: the inputs are broken"


def test_compute_suggestions_refuses_an_unknown_city(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("compute_suggestions", "--city", "999999")


def test_evaluate_matching_prints_recall_for_the_matcher_and_the_baselines(db: None, tmp_path: Path) -> None:
    codes = ["BY", "RU", "CN", "KZ"]
    countries = [CountryFactory.create(code=code) for code in codes]
    cities = [
        CityFactory.create(
            country=countries[number % 4],
            population=20_000 + 1_000 * number,
            latitude=40 + number % 20,
            longitude=30 + (number * 7) % 90,
        )
        for number in range(40)
    ]
    header = "city_a,country_a,city_b,country_b,geonameid_a,geonameid_b,relation,international,entity_a,entity_b,source"
    lines = [header]
    for number in range(0, 36, 2):
        first, second = cities[number], cities[number + 1]
        lines.append(
            f"{first.name},{codes[number % 4]},{second.name},{codes[(number + 1) % 4]},"
            f"{first.geonameid},{second.geonameid},twin,1,city,city,test"
        )
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "evaluate_matching",
        *("--pairs", str(pairs), "--folds", "3", "--seed", "1", "--k", "5", "--by-country-pair"),
        stdout=out,
    )
    text = out.getvalue()
    assert "18 city pairs across a border" in text
    for name in ("matcher", "random", "nearest", "similar population", "most active"):
        assert name in text
    assert "hidden pairs the matcher ranks (the better of their two cities) within 5: " in text
    # Every pair joins a city to the next one's country: BY with RU, and CN with KZ; 9 pairs each.
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith(("BY", "CN"))}
    assert set(rows) == {"BY\N{EN DASH}RU", "CN\N{EN DASH}KZ"}
    for counts in rows.values():
        assert counts[0] == "9" and sum(int(count) for count in counts[1:]) == 9
