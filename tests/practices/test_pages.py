"""The library pages: list and search, the practice page, the submission form with indicator rows, moderation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from cities.models import City
from practices import services
from practices.models import Practice, PracticeTombstone
from tests.conftest import login
from tests.factories import AgreementFactory, PracticeFactory, TopicFactory, days_from_today

THIS_YEAR = days_from_today(0).year


def test_visitors_see_published_practices_only(practice_in: Callable[..., Practice]) -> None:
    practice_in("published", title="Sorting household waste")
    practice_in("draft", title="A draft about buses")

    page = Client().get("/practices/").content.decode()

    assert "Sorting household waste" in page
    assert "A draft about buses" not in page


def test_the_library_searches_and_filters(practice_in: Callable[..., Practice], bishkek_city: City) -> None:
    practice_in("published", title="Sorting household waste")
    PracticeFactory.create(city=bishkek_city, status="published", title="Electric buses")

    found = Client().get("/practices/", {"q": "waste"}).content.decode()
    in_kyrgyzstan = Client().get("/practices/", {"country": "KG"}).content.decode()

    assert "Sorting household waste" in found and "Electric buses" not in found
    assert "Electric buses" in in_kyrgyzstan and "Sorting household waste" not in in_kyrgyzstan


def test_the_practice_page_shows_indicators_cost_and_timeline_with_text_escaped(
    practice_in: Callable[..., Practice],
) -> None:
    practice = practice_in("published", title="<script>alert(1)</script> Bus lanes", cost=1500000, currency="KZT")
    practice.indicators.create(indicator="Daily riders", unit="people", baseline=1000, achieved=25000, year=THIS_YEAR)
    practice.transitions.create(move="publish", from_status="submitted", to_status="published")

    page = Client().get(practice.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bus lanes" in page
    assert "Daily riders" in page and "25000" in page
    assert "1,500,000 KZT" in page
    assert "Submitted → Published" in page


def test_an_officer_writes_and_submits_with_indicator_rows(officer: User, coordinator: User) -> None:
    topic = TopicFactory.create(slug="transport", name="Public transport")
    form = {
        "title": "Bus rapid transit corridor",
        "summary": "A dedicated bus lane along the main avenue.",
        "topics": [topic.pk],
        "language": "ru",
        "cost": "2000000",
        "currency": "kzt",
        "start_year": THIS_YEAR - 4,
        "end_year": THIS_YEAR - 2,
        "indicators-TOTAL_FORMS": "2",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-indicator": "Travel time",
        "indicators-0-unit": "minutes",
        "indicators-0-baseline": "55",
        "indicators-0-achieved": "32",
        "indicators-0-year": THIS_YEAR - 2,
        "submit": "1",
    }

    response = login(officer).post("/practices/new/", form)

    practice = Practice.objects.get()
    assert response.status_code == 302 and response["Location"] == practice.get_absolute_url()
    assert (practice.status, practice.currency, practice.author) == ("submitted", "KZT", officer)
    assert list(practice.indicators.values_list("indicator", "year")) == [("Travel time", THIS_YEAR - 2)]


def test_a_bad_indicator_row_is_a_form_error_and_saves_nothing(officer: User) -> None:
    topic = TopicFactory.create(slug="transport", name="Public transport")
    form = {
        "title": "Bus rapid transit corridor",
        "summary": "A dedicated bus lane.",
        "topics": [topic.pk],
        "language": "en",
        "start_year": THIS_YEAR,
        "end_year": THIS_YEAR - 1,
        "indicators-TOTAL_FORMS": "1",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-indicator": "Travel time",
        "indicators-0-unit": "minutes",
        "indicators-0-achieved": "fast",
        "indicators-0-year": THIS_YEAR,
    }

    response = login(officer).post("/practices/new/", form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "The end year cannot be before the start year." in page
    assert "Enter a number." in page
    assert not Practice.objects.exists()


def _new_practice_form(**fields: object) -> dict[str, object]:
    topic = TopicFactory.create(slug="transport", name="Public transport")
    return {
        "title": "Bus rapid transit corridor",
        "summary": "A dedicated bus lane.",
        "topics": [topic.pk],
        "language": "en",
        "start_year": THIS_YEAR - 1,
        "end_year": THIS_YEAR,
        "indicators-TOTAL_FORMS": "1",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-indicator": "Daily riders",
        "indicators-0-unit": "people",
        "indicators-0-achieved": "25000",
        "indicators-0-year": THIS_YEAR,
        **fields,
    }


def test_the_largest_figures_the_form_takes_read_back_on_every_page(officer: User, coordinator: User) -> None:
    # Found by fuzzing: SQLite keeps a decimal as a float (15 significant digits); a cost of 99999999999999.99 or a
    # figure of 10^16 was saved, then every page that read it back was a server error, the public list included.
    client = login(officer)
    # Fifteen significant digits, as many as the float keeps, where they may be (a trailing zero is not one).
    biggest = {"cost": "9999999999999.99", "indicators-0-baseline": "-99999999999.9999"}
    biggest["indicators-0-achieved"] = "1234567890123450"
    assert client.post("/practices/new/", _new_practice_form(submit="1", currency="KZT", **biggest)).status_code == 302
    practice = Practice.objects.get()
    login(coordinator).post(f"/practices/{practice.pk}/publish/", {"publish-comment": ""})

    page = Client().get(practice.get_absolute_url())
    assert page.status_code == 200 and "9,999,999,999,999.99 KZT" in page.content.decode()
    assert Client().get("/practices/").status_code == 200
    answer = Client().get(f"/api/v1/practices/{practice.pk}/").json()
    assert (answer["cost"], answer["indicators"][0]["achieved"]) == ("9999999999999.99", "1234567890123450.0000")
    assert answer["indicators"][0]["baseline"] == "-99999999999.9999"


@pytest.mark.parametrize(
    "field", ["cost", "indicators-0-baseline", "indicators-0-achieved"], ids=["cost", "baseline", "achieved"]
)
def test_a_figure_with_more_significant_digits_than_sqlite_keeps_is_a_form_error(officer: User, field: str) -> None:
    too_long = "99999999999999.99" if field == "cost" else "999999999999.9999"

    response = login(officer).post("/practices/new/", _new_practice_form(**{field: too_long, "currency": "KZT"}))

    assert response.status_code == 200
    assert "Enter a number with at most 15 significant digits." in response.content.decode()
    assert not Practice.objects.exists()


def test_a_posted_count_of_100000_indicator_rows_builds_at_most_30_forms(officer: User) -> None:
    # Found by fuzzing: indicators-TOTAL_FORMS=100000 built a thousand forms (two seconds a request).
    response = login(officer).post("/practices/new/", _new_practice_form(**{"indicators-TOTAL_FORMS": "100000"}))

    assert response.status_code == 200
    assert len(response.context["formset"].forms) <= 30
    assert "Please submit at most 30 forms." in response.content.decode()
    assert not Practice.objects.exists()


def test_a_nul_character_in_the_title_is_a_form_error_not_a_server_error(officer: User) -> None:
    # Found by fuzzing: the duplicate hint, which runs before the form's validation, sent the NUL to the database,
    # which PostgreSQL refuses (a server error there; SQLite takes it).
    PracticeFactory.create(city=officer.city, status="published", title="Separate waste collection")
    client = login(officer)

    response = client.post("/practices/new/", _new_practice_form(title="Separate\x00 waste collection"))
    assert response.status_code == 200 and "Null characters are not allowed." in response.content.decode()
    answer = client.get("/practices/similar/", {"title": "Separate\x00 waste collection"})
    assert answer.status_code == 200 and [row["title"] for row in answer.json()["results"]] == [
        "Separate waste collection"
    ]


def test_a_coordinator_moderates_from_the_queue(practice_in: Callable[..., Practice], coordinator: User) -> None:
    practice = practice_in("submitted", title="Smart traffic lights")
    client = login(coordinator)

    assert "Smart traffic lights" in client.get("/practices/moderation/").content.decode()
    client.post(f"/practices/{practice.pk}/publish/", {"publish-comment": ""})

    practice.refresh_from_db()
    assert practice.status == "published"
    assert "Smart traffic lights" not in client.get("/practices/moderation/").content.decode()


def test_returning_without_a_comment_is_refused_on_the_page(
    practice_in: Callable[..., Practice], coordinator: User
) -> None:
    practice = practice_in("submitted")

    login(coordinator).post(f"/practices/{practice.pk}/return/", {"return-comment": ""})

    practice.refresh_from_db()
    assert practice.status == "submitted"


def test_an_officer_of_another_city_cannot_publish(practice_in: Callable[..., Practice], outsider: User) -> None:
    practice = practice_in("submitted")

    assert login(outsider).post(f"/practices/{practice.pk}/publish/").status_code == 404


def test_the_city_page_lists_its_published_practices(practice_in: Callable[..., Practice], almaty_city: City) -> None:
    practice_in("published", title="Sorting household waste")
    practice_in("draft", title="A draft about buses")

    page = Client().get(f"/cities/{almaty_city.pk}/").content.decode()

    assert "Sorting household waste" in page and "A draft about buses" not in page


def test_the_form_hint_names_a_close_practice_while_writing(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    existing = practice_in("published", title="Separate collection of household waste")

    answer = login(officer).get("/practices/similar/", {"title": "Separate household waste collection"}).json()

    assert answer == {"results": [{"title": existing.title, "city": "Almaty", "url": existing.get_absolute_url()}]}


def test_the_form_hint_takes_odd_input_without_a_server_error(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    # Found by fuzzing: "²" is a digit to str.isdigit() that int() refuses; a 100,000-character title made SQLite
    # refuse its LIKE pattern ("pattern too complex") on the form's submission.
    existing = practice_in("published", title="Separate collection of household waste")
    client = login(officer)
    answer = client.get("/practices/similar/", {"title": existing.title, "exclude": "²"})
    assert answer.status_code == 200 and answer.json()["results"]
    answer = client.get("/practices/similar/", {"title": "y" * 100_000, "text": "z" * 100_000})
    assert answer.status_code == 200
    assert services.similar_practices(user=officer, city=None, title="waste " * 20_000) is not None


def test_the_header_counts_the_practices_waiting_on_a_coordinator(
    practice_in: Callable[..., Practice], coordinator: User
) -> None:
    practice_in("submitted")
    practice_in("submitted")
    practice_in("draft")

    page = login(coordinator).get("/practices/").content.decode()

    assert '<span class="practices-count" aria-label="practices waiting on you">2</span>' in page


def test_admin_deletes_a_published_practice_through_the_service(
    practice_in: Callable[..., Practice], staff: User
) -> None:
    practice = practice_in("published")

    login(staff).post(f"/admin/practices/practice/{practice.pk}/delete/", {"post": "yes"})

    assert not Practice.objects.filter(pk=practice.pk).exists()
    assert PracticeTombstone.objects.get().practice_id == practice.pk


def test_the_practice_page_shows_the_citys_partnerships(
    practice_in: Callable[..., Practice], almaty_city: City, bishkek_city: City
) -> None:
    AgreementFactory.create(initiator=almaty_city, partner=bishkek_city, status="active", source="list")
    practice = practice_in("published")

    page = Client().get(practice.get_absolute_url()).content.decode()

    assert "Partner cities" in page and "Bishkek" in page


def test_a_submitted_practice_cannot_be_edited_while_it_waits(
    practice_in: Callable[..., Practice], officer: User
) -> None:
    practice = practice_in("submitted")

    response = login(officer).get(f"/practices/{practice.pk}/edit/")

    assert response.status_code == 302 and response["Location"] == practice.get_absolute_url()


def test_the_agreements_inbox_also_lists_the_practices_waiting_on_the_person(
    practice_in: Callable[..., Practice], officer: User, coordinator: User, neighbour_officer: User
) -> None:
    submitted = practice_in("submitted", title="Submitted bus lanes")
    returned = practice_in("returned", title="Returned street lights")
    draft = practice_in("draft", title="Draft parks")

    for_coordinator = login(coordinator).get("/agreements/inbox/").content.decode()
    for_officer = login(officer).get("/agreements/inbox/").content.decode()
    for_neighbour = login(neighbour_officer).get("/agreements/inbox/").content.decode()

    assert submitted.title in for_coordinator and "a practice to publish or return" in for_coordinator
    assert returned.title not in for_coordinator and draft.title not in for_coordinator
    assert returned.title in for_officer and "a practice returned to you for changes" in for_officer
    assert submitted.title not in for_officer and draft.title not in for_officer
    assert "practices-inbox" not in for_neighbour


def test_the_agreements_inbox_works_without_the_practices_app(
    practice_in: Callable[..., Practice], coordinator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted = practice_in("submitted")
    monkeypatch.setattr("partnerships.views.apps.is_installed", lambda name: name != "practices")

    response = login(coordinator).get("/agreements/inbox/")

    assert response.status_code == 200 and submitted.title not in response.content.decode()
