"""The city page's suggested partners, what officers may do there, the staff page and the API."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import User
from cities.models import City
from matching import reasons, services
from matching.models import Dismissal, PendingRecompute, RecomputeRun, Suggestion
from partnerships.models import Agreement
from tests.conftest import login
from tests.factories import AgreementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(world: dict[str, Any]) -> dict[str, Any]:
    services.start_full_recompute()
    return world


def test_a_visitor_sees_suggested_partners_with_reasons_but_no_actions(computed: dict[str, Any]) -> None:
    almaty = computed["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).select_related("candidate").get(rank=1)
    page = Client().get(f"/cities/{almaty.pk}/").content.decode()
    assert "Suggested partners" in page
    assert first.candidate.display_name in page
    assert "km apart" in page
    assert "Not interested" not in page
    assert f"/agreements/new/{first.candidate.pk}/" not in page


def test_the_citys_officer_may_propose_or_dismiss_from_a_suggestion(computed: dict[str, Any], officer: User) -> None:
    almaty = computed["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    page = login(officer).get(f"/cities/{almaty.pk}/").content.decode()
    assert f"/agreements/new/{first.candidate_id}/" in page
    assert "Not interested" in page


def test_not_interested_and_undo_through_the_page(computed: dict[str, Any], officer: User) -> None:
    almaty = computed["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    client = login(officer)
    response = client.post(f"/matching/{almaty.pk}/dismiss/{first.candidate_id}/")
    assert response.status_code == 302
    assert Dismissal.objects.filter(city=almaty, candidate=first.candidate).exists()
    assert response["Location"].endswith("#suggestions")
    # Where the redirect lands: the note and the Undo button right under the heading, not at the page's top.
    page = client.get(f"/cities/{almaty.pk}/").content.decode()
    section = page[page.index('id="suggestions"') :]
    note = f"{first.candidate.name} will not be suggested to Almaty again. You can undo this below."
    assert page.count(note) == 1 and note in section
    assert section.index(note) < section.index("<details open>") < section.index("Undo") < section.index("<ol")
    response = client.post(f"/matching/{almaty.pk}/undo/{first.candidate_id}/")
    assert not Dismissal.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert f"{first.candidate.name} may be suggested again." in page[page.index('id="suggestions"') :]


def test_each_action_names_its_candidate_for_screen_readers(computed: dict[str, Any], officer: User) -> None:
    almaty = computed["cities"]["Almaty"]
    page = login(officer).get(f"/cities/{almaty.pk}/").content.decode()
    for suggestion in Suggestion.objects.filter(city=almaty).select_related("candidate"):
        hidden = f'<span class="visually-hidden">: {suggestion.candidate.name}</span>'
        assert f"Propose a partnership{hidden}" in page
        assert f"Not interested{hidden}" in page


def test_dismissing_the_city_itself_is_refused_with_a_message_not_an_error(
    computed: dict[str, Any], officer: User
) -> None:
    almaty = computed["cities"]["Almaty"]
    response = login(officer).post(f"/matching/{almaty.pk}/dismiss/{almaty.pk}/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A city cannot be its own partner." in page[page.index('id="suggestions"') :]
    assert not Dismissal.objects.exists()


def test_undoing_what_was_never_dismissed_recomputes_nothing(
    computed: dict[str, Any], officer: User, django_capture_on_commit_callbacks: Any
) -> None:
    almaty, bishkek = computed["cities"]["Almaty"], computed["cities"]["Bishkek"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = login(officer).post(f"/matching/{almaty.pk}/undo/{bishkek.pk}/")
    assert response.status_code == 302
    assert not callbacks and not PendingRecompute.objects.exists()


def test_an_officer_of_another_city_cannot_dismiss(computed: dict[str, Any], partner_officer: User) -> None:
    almaty = computed["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    response = login(partner_officer).post(f"/matching/{almaty.pk}/dismiss/{first.candidate_id}/")
    assert response.status_code == 403
    assert not Dismissal.objects.exists()


def test_the_api_lists_a_citys_suggestions_with_reasons_as_codes_and_sentences(computed: dict[str, Any]) -> None:
    almaty = computed["cities"]["Almaty"]
    answer = APIClient().get(f"/api/v1/cities/{almaty.pk}/suggestions/")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["rank"] for item in body] == list(range(1, len(body) + 1))
    first = body[0]
    assert {"candidate", "score", "rank", "reasons"} <= set(first)
    distance = next(reason for reason in first["reasons"] if reason["code"] == "distance")
    assert distance["numbers"]["km"] > 0
    assert distance["text"].endswith("km apart")


def test_the_api_answers_reasons_in_the_requested_language(computed: dict[str, Any]) -> None:
    almaty = computed["cities"]["Almaty"]
    body = APIClient().get(f"/api/v1/cities/{almaty.pk}/suggestions/", HTTP_ACCEPT_LANGUAGE="ru").json()
    distance = next(reason for reason in body[0]["reasons"] if reason["code"] == "distance")
    assert "км" in distance["text"]


def test_the_apis_lang_parameter_outranks_the_header_and_the_persons_language(
    computed: dict[str, Any], officer: User
) -> None:
    # As for agreements and practices: a walk-through found this endpoint answering in English to ?lang=zh-hans.
    url = f"/api/v1/cities/{computed['cities']['Almaty'].pk}/suggestions/"
    officer.language = "ru"
    officer.save(update_fields=["language"])
    client = APIClient()
    client.force_login(officer)
    for asker in (APIClient(), client):
        response = asker.get(url, {"lang": "zh-hans"}, HTTP_ACCEPT_LANGUAGE="ru")
        distance = next(reason for reason in response.json()[0]["reasons"] if reason["code"] == "distance")
        assert "公里" in distance["text"] and response["Content-Language"] == "zh-hans"


def test_the_api_answers_404_for_an_unknown_city(db: None) -> None:
    assert APIClient().get("/api/v1/cities/999999/suggestions/").status_code == 404


def test_the_suggestions_endpoint_is_in_the_openapi_schema(db: None) -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/cities/{id}/suggestions/" in schema or "/api/v1/cities/{pk}/suggestions/" in schema
    assert "reasons" in schema


def test_staff_start_a_full_recompute_and_see_its_progress(world: dict[str, Any], staff: User) -> None:
    client = login(staff)
    response = client.post("/matching/recompute/")
    assert response.status_code == 302
    run = RecomputeRun.objects.get()
    page = client.get("/matching/recompute/").content.decode()
    assert "<progress" in page and 'value="100"' in page
    assert run.status == RecomputeRun.Status.DONE


def test_a_second_click_while_a_recompute_is_under_way_starts_none(world: dict[str, Any], staff: User) -> None:
    under_way = services.create_run()  # queued: its blocks have not finished
    response = login(staff).post("/matching/recompute/", follow=True)
    page = response.content.decode()
    assert "is still under way: its progress is below." in page
    assert "Recompute every city's suggestions" not in page  # no button while it runs
    assert list(RecomputeRun.objects.all()) == [under_way]


def test_staff_stop_a_stalled_recompute_and_its_late_blocks_change_nothing(
    computed: dict[str, Any], staff: User, officer: User
) -> None:
    before = list(Suggestion.objects.values_list("city_id", "candidate_id", "rank", "computed_at"))
    stalled = services.create_run()  # queued, its tasks lost: nothing would close it for two hours
    client = login(staff)
    page = client.get("/matching/recompute/").content.decode()
    assert "Stop this recompute" in page and "Recompute every city's suggestions" not in page
    assert login(officer).post(f"/matching/recompute/{stalled.pk}/stop/").status_code == 403
    assert RecomputeRun.objects.get(pk=stalled.pk).status == RecomputeRun.Status.QUEUED
    page = client.post(f"/matching/recompute/{stalled.pk}/stop/", follow=True).content.decode()
    assert "The recompute was stopped: every city keeps the suggestions it had." in page
    assert "Recompute every city's suggestions" in page  # a new one can start at once
    stalled.refresh_from_db()
    assert stalled.status == RecomputeRun.Status.FAILED and stalled.error.startswith(f"Stopped by {staff.username}")
    # A worker that was only slow finishes a block and the swap after all: the stopped run changes nothing.
    assert services.compute_block(run_id=stalled.pk, number=0, start=0, stop=stalled.city_count) == 0
    services.swap_suggestions(run_id=stalled.pk)
    assert list(Suggestion.objects.values_list("city_id", "candidate_id", "rank", "computed_at")) == before
    assert RecomputeRun.objects.get(pk=stalled.pk).status == RecomputeRun.Status.FAILED
    # A second click (or one just after the run finished) stops nothing, and says so.
    page = client.post(f"/matching/recompute/{stalled.pk}/stop/", follow=True).content.decode()
    assert "That recompute had already finished: nothing was stopped." in page
    assert RecomputeRun.objects.get(pk=stalled.pk).error == stalled.error


def test_the_recompute_page_says_when_the_results_are_being_put_in_place(world: dict[str, Any], staff: User) -> None:
    run = services.create_run()
    run.blocks.update(finished_at=timezone.now())  # every block done, the swap not yet
    RecomputeRun.objects.filter(pk=run.pk).update(status=RecomputeRun.Status.RUNNING)
    page = login(staff).get("/matching/recompute/").content.decode()
    assert "Every city is computed: the new suggestions are being put in place." in page


def test_the_recompute_page_counts_the_lists_kept_from_recomputes_during_the_run(
    world: dict[str, Any], staff: User, settings: Any
) -> None:
    """A walk-through read "76310 suggestions written." with 81,020 stored: 471 cities recomputed on their own
    during the run had kept their newer lists."""
    settings.MATCHING_BLOCK_SIZE = 4
    run = services.create_run()
    for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    services.recompute_city(city_id=world["cities"]["Almaty"].pk)  # after its block read the inputs
    written = services.swap_suggestions(run_id=run.pk)
    stored = Suggestion.objects.count()
    assert 0 < written < stored
    page = login(staff).get("/matching/recompute/").content.decode()
    assert f"{written} suggestions written." in page
    assert (
        f"{stored} are stored now: since it began, cities that changed or were added have been recomputed on their own."
        in page
    )
    services.start_full_recompute()
    assert "are stored now" not in login(staff).get("/matching/recompute/").content.decode()


def test_a_run_left_open_past_two_hours_holds_back_neither_the_button_nor_a_new_run(
    world: dict[str, Any], staff: User
) -> None:
    lost = services.create_run()
    RecomputeRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3))
    client = login(staff)
    assert "Recompute every city's suggestions" in client.get("/matching/recompute/").content.decode()
    client.post("/matching/recompute/")
    assert RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE).count() == 1


def test_the_recompute_page_is_for_staff_only(world: dict[str, Any], officer: User) -> None:
    # A signed-in officer is told why, not sent to the admin's login as if not signed in; a visitor signs in.
    response = login(officer).get("/matching/recompute/")
    assert response.status_code == 403
    assert "Only staff can start or stop the full recompute of suggestions." in response.content.decode()
    response = Client().get("/matching/recompute/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("language", "partner", "place"),
    [
        ("en", "Tashkent, a partner of Kazan, is", "Kazan is number 2 by population in"),
        ("ru", "партнёр", "№ 2"),
        ("zh-hans", "伙伴城市", "第 2 位"),
    ],
)
def test_reasons_name_a_partner_near_the_city_and_the_candidates_place_in_its_country(
    computed: dict[str, Any], language: str, partner: str, place: str
) -> None:
    # Kazan's partner Tashkent is about 480 km from Bishkek; Kazan is second to Novosibirsk in Russia.
    cities = computed["cities"]
    bishkek, kazan = cities["Bishkek"], cities["Kazan"]
    stored = Suggestion.objects.get(city=bishkek, candidate=kazan).components["reasons"]
    near = next(reason for reason in stored if reason["code"] == "near_partner")
    assert (near["partner"], near["of"]) == (cities["Tashkent"].pk, "candidate")
    assert 400 <= near["km"] <= 600
    body = APIClient().get(f"/api/v1/cities/{bishkek.pk}/suggestions/", HTTP_ACCEPT_LANGUAGE=language).json()
    texts = {
        reason["code"]: reason["text"]
        for reason in next(item for item in body if item["candidate"]["id"] == kazan.pk)["reasons"]
    }
    assert partner in texts["near_partner"]
    assert place in texts["prominent"]


@pytest.mark.parametrize(
    ("language", "seat", "district", "regions"),
    [
        ("en", "Kazan is the seat of its region", "Kashgar is the seat of its district", "already have 1 partnership"),
        ("ru", "— центр своего региона", "— центр своего района", "уже есть 1 партнёрство"),
        ("zh-hans", "是其所在地区的首府", "是其所在区县的驻地", "已有 1 项伙伴关系"),
    ],
)
def test_reasons_say_which_candidates_are_seats_and_which_regions_already_partner(
    world: dict[str, Any], language: str, seat: str, district: str, regions: str
) -> None:
    # Urumqi and Kashgar are both in Xinjiang (region 13); Osh–Urumqi makes Xinjiang and Osh's region partners.
    cities = world["cities"]
    AgreementFactory.create(
        initiator=cities["Osh"], partner=cities["Urumqi"], status=Agreement.Status.ACTIVE, source="test"
    )
    services.start_full_recompute()
    osh, kashgar = cities["Osh"], cities["Kashgar"]
    stored = {
        reason["code"]: reason for reason in Suggestion.objects.get(city=osh, candidate=kashgar).components["reasons"]
    }
    assert stored["region_pair"]["count"] == 1
    assert "district_seat" in stored and "region_seat" not in stored
    body = APIClient().get(f"/api/v1/cities/{osh.pk}/suggestions/", HTTP_ACCEPT_LANGUAGE=language).json()
    texts = {item["candidate"]["id"]: {reason["code"]: reason["text"] for reason in item["reasons"]} for item in body}
    assert district in texts[kashgar.pk]["district_seat"]
    assert regions in texts[kashgar.pk]["region_pair"]
    assert seat in texts[cities["Kazan"].pk]["region_seat"]


@pytest.mark.parametrize(
    ("language", "populations", "text"),
    [
        ("en", (2_000_000, 1_100_000), "similar size: 2 million and 1.1 million people"),
        ("en", (1_200_000, 731_000), "similar size: 1.2 million and 731,000 people"),
        ("en", (144_665, 102_300), "similar size: 144,665 and 102,300 people"),
        ("ru", (2_000_000, 1_100_000), "сходный размер: 2 миллиона и 1,1 миллиона жителей"),
        ("ru", (144_665, 102_300), "сходный размер: 144\xa0665 и 102\xa0300 жителей"),
        ("zh-hans", (2_000_000, 1_100_000), "规模相近：人口 200万 和 110万"),
        ("zh-hans", (144_665, 73_623), "规模相近：人口 14.5万 和 7.4万"),
    ],
)
def test_similar_size_names_each_population_in_its_own_unit(
    language: str, populations: tuple[int, int], text: str
) -> None:
    # A city of 100,000 to a million beside a larger one read "0.1 and 73623 million people".
    first, second = populations
    reason = {"code": "similar_size", "population": first, "candidate_population": second}
    with translation.override(language):
        assert reasons.sentence(reason, City(name="Acheng"), City(name="Birobidzhan"), {}) == text


@pytest.mark.parametrize(
    ("language", "topic", "text"),
    [
        ("en", "Waste management", "Bishkek needs waste management; Kazan has published 3 practices on it"),
        ("en", "ICT", "Bishkek needs ICT; Kazan has published 3 practices on it"),
        ("en", "Silk Road heritage", "Bishkek needs Silk Road heritage; Kazan has published 3 practices on it"),
        ("ru", "Обращение с отходами", "Бишкек: нужна помощь по теме «Обращение с отходами»; город Казань"),
    ],
)
def test_a_topic_reads_as_part_of_the_sentence(language: str, topic: str, text: str) -> None:
    # A walk-through read "Bishkek needs Waste management".
    reason = {"code": "needs", "topic": 1, "practices": 3, "expertise": False}
    with translation.override(language):
        city, candidate = City(name="Bishkek", name_ru="Бишкек"), City(name="Kazan", name_ru="Казань")
        assert reasons.sentence(reason, city, candidate, {1: topic}).startswith(text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "their countries share a border, and the two are less than 500 km apart"),
        ("ru", "их страны граничат, а между городами меньше 500 км"),
        ("zh-hans", "两国接壤，两市相距不到 500 公里"),
    ],
)
def test_the_border_reason_says_the_countries_are_neighbours_not_the_cities(language: str, text: str) -> None:
    # "neighbours across the border" read wrong for Minsk and Kaliningrad (Russia's, but no neighbour of Belarus).
    with translation.override(language):
        assert reasons.sentence({"code": "border"}, City(name="Minsk"), City(name="Kaliningrad"), {}) == text


def test_suggestions_neither_name_nor_count_a_suspended_partnership(world: dict[str, Any]) -> None:
    # Suggestions are public; a suspended agreement is seen by its cities' officers and the coordinators only.
    cities = world["cities"]
    bishkek, kazan = cities["Bishkek"], cities["Kazan"]
    Agreement.objects.filter(initiator=cities["Tashkent"], partner=kazan).update(status=Agreement.Status.SUSPENDED)
    services.start_full_recompute()
    body = APIClient().get(f"/api/v1/cities/{bishkek.pk}/suggestions/").json()
    texts = [reason["text"] for item in body for reason in item["reasons"]]
    assert not [text for text in texts if "a partner of Kazan" in text or "Kazan, a partner of" in text]
    codes = {reason["code"] for item in body if item["candidate"]["id"] == kazan.pk for reason in item["reasons"]}
    assert codes and "near_partner" not in codes and "active" not in codes


def test_cities_of_the_own_country_are_suggested_only_when_asked(computed: dict[str, Any], officer: User) -> None:
    """Asked, the best cities of Almaty's own country instead of the stored list (which leaves them out)."""
    cities = computed["cities"]
    almaty, shymkent = cities["Almaty"], cities["Shymkent"]
    url = f"/api/v1/cities/{almaty.pk}/suggestions/"
    stored = list(Suggestion.objects.values_list("city_id", "candidate_id", "rank"))
    assert shymkent.pk not in [item["candidate"]["id"] for item in APIClient().get(url).json()]
    body = APIClient().get(url, {"same_country": "true"}).json()
    found = {item["candidate"]["id"]: item for item in body}
    assert shymkent.pk in found and found[shymkent.pk]["reasons"]
    assert [item["rank"] for item in body] == list(range(1, len(body) + 1))
    assert {item["candidate"]["country"] for item in body} == {almaty.country.code}
    assert list(Suggestion.objects.values_list("city_id", "candidate_id", "rank")) == stored  # nothing stored
    # The page: the same choice, a link away; a candidate dismissed stays out of it.
    client = login(officer)
    page = client.get(f"/cities/{almaty.pk}/").content.decode()
    assert "Suggest cities of Kazakhstan instead" in page and "Shymkent" not in page[page.index('id="suggestions"') :]
    page = client.get(f"/cities/{almaty.pk}/", {"same_country": "1"}).content.decode()
    assert "Suggest cities of other countries" in page and "Shymkent" in page[page.index('id="suggestions"') :]
    # The buttons of that list bring the officer back to it (a walk-through landed on the foreign list instead).
    assert '<input type="hidden" name="same_country" value="1">' in page
    response = client.post(f"/matching/{almaty.pk}/dismiss/{shymkent.pk}/", {"same_country": "1"})
    assert response["Location"] == f"/cities/{almaty.pk}/?same_country=1#suggestions"
    assert shymkent.pk not in [item["candidate"]["id"] for item in APIClient().get(url, {"same_country": "1"}).json()]
    response = client.post(f"/matching/{almaty.pk}/undo/{shymkent.pk}/", {"same_country": "1"})
    assert response["Location"] == f"/cities/{almaty.pk}/?same_country=1#suggestions"


def test_a_same_country_value_that_is_no_yes_or_no_is_a_400_naming_it(computed: dict[str, Any]) -> None:
    almaty = computed["cities"]["Almaty"]
    response = APIClient().get(f"/api/v1/cities/{almaty.pk}/suggestions/", {"same_country": "perhaps"})
    assert response.status_code == 400
    assert "same_country" in response.json()


def test_staff_deleting_a_dismissal_in_the_admin_recompute_the_city(
    computed: dict[str, Any], officer: User, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    almaty = computed["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    with django_capture_on_commit_callbacks(execute=True):
        login(officer).post(f"/matching/{almaty.pk}/dismiss/{first.candidate_id}/")
    assert Suggestion.objects.get(city=almaty, rank=1).candidate_id != first.candidate_id
    dismissal = Dismissal.objects.get()
    client = login(staff)
    assert client.get("/admin/matching/dismissal/add/").status_code == 403  # officers dismiss from the page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/matching/dismissal/{dismissal.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Dismissal.objects.exists()
    assert Suggestion.objects.get(city=almaty, rank=1).candidate_id == first.candidate_id  # suggested again
