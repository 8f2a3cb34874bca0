"""Suggestions follow their inputs: one city after a commit, every city through the chord, dismissals, e-mail."""

from __future__ import annotations

import datetime
import io
import itertools
import threading
import time
from typing import Any

import celery.canvas
import numpy as np
import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.utils import timezone, translation
from kombu.exceptions import OperationalError

from accounts.models import User
from cities import services as city_services
from cities.forms import CityProfileForm
from cities.models import City
from matching import inputs, reasons, services, tasks
from matching.models import Dismissal, PendingRecompute, RecomputeRun, StagedSuggestion, Suggestion
from matching.services import one_city, results
from notifications.models import Message
from partnerships import services as agreement_services
from practices import services as practice_services
from sco_portal.celery import app as celery_app
from tests.factories import CityFactory, CountryFactory, PracticeFactory, TopicFactory, UserFactory
from tests.notifications.conftest import database_url

pytestmark = pytest.mark.django_db


def rows(city: Any = None) -> list[tuple[int, int, int, float]]:
    queryset = Suggestion.objects.all() if city is None else Suggestion.objects.filter(city=city)
    return list(queryset.order_by("city_id", "rank").values_list("city_id", "rank", "candidate_id", "score"))


def test_a_full_recompute_suggests_partners_abroad_with_reasons(world: dict[str, Any]) -> None:
    run = services.start_full_recompute()
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.DONE and run.percent == 100
    bishkek = world["cities"]["Bishkek"]
    suggestions = list(Suggestion.objects.filter(city=bishkek).select_related("candidate__country"))
    assert suggestions
    assert all(s.candidate.country_id != bishkek.country_id for s in suggestions)
    codes = {reason["code"] for s in suggestions for reason in s.components["reasons"]}
    assert "distance" in codes


def test_running_the_full_recompute_twice_gives_the_same_rows(world: dict[str, Any]) -> None:
    services.start_full_recompute()
    first = rows()
    services.start_full_recompute()
    assert rows() == first


def test_the_swap_step_run_twice_writes_once(world: dict[str, Any]) -> None:
    run = services.start_full_recompute()
    run.refresh_from_db()
    first = rows()
    Suggestion.objects.all().delete()
    assert services.swap_suggestions(run_id=run.pk) == run.suggestion_count
    assert rows() == []  # a finished run's late callback changes nothing
    assert first


def test_a_block_run_twice_stages_the_same_rows_and_a_late_block_stages_none(
    world: dict[str, Any], settings: Any
) -> None:
    settings.MATCHING_BLOCK_SIZE = 4
    run = services.create_run()
    assert run.block_count == 3
    staged = StagedSuggestion.objects.filter(run=run).order_by("city_id", "rank")
    everything = staged.values_list("block", "city_id", "rank", "candidate_id", "score", "components")
    count = services.compute_block(run_id=run.pk, number=1, start=4, stop=8)
    first = list(everything)
    assert count == len(first) and {block for block, *_rest in first} == {1}
    assert services.compute_block(run_id=run.pk, number=1, start=4, stop=8) == count
    assert list(everything) == first
    assert run.blocks_done == 1
    for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    written = services.swap_suggestions(run_id=run.pk)
    assert written == Suggestion.objects.count() > count
    assert not staged.exists()  # swapped in, then cleared
    # A block delivered again after the swap (its worker was lost after the work) stages nothing.
    assert services.compute_block(run_id=run.pk, number=0, start=0, stop=4) == 0
    assert not staged.exists()


def test_a_full_recompute_replaces_the_rows_of_the_last_one_with_what_its_blocks_staged(
    world: dict[str, Any], settings: Any
) -> None:
    settings.MATCHING_BLOCK_SIZE = 3
    services.start_full_recompute()
    before = rows()
    Suggestion.objects.update(score=F("score") + 100)  # rows a full recompute must replace, not keep
    run = services.start_full_recompute()
    run.refresh_from_db()
    assert run.block_count == 4 and run.suggestion_count == len(before)
    assert rows() == before
    assert not StagedSuggestion.objects.exists()


def test_a_block_that_fails_closes_its_run_as_failed_and_keeps_the_suggestions(
    world: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch, staff: User
) -> None:
    settings.MATCHING_BLOCK_SIZE = 4
    services.start_full_recompute()
    before = rows()
    rank_rows = services.rank_rows

    def third_block_fails(table: Any, positions: Any, topics: Any) -> Any:
        if positions[0] == 8:
            raise ValueError("the inputs of block 2 are broken")
        return rank_rows(table, positions, topics)

    monkeypatch.setattr("matching.services.runs.rank_rows", third_block_fails)
    with pytest.raises(ValueError, match="block 2"):  # in process (no broker), the error reaches the caller
        services.start_full_recompute()
    run = RecomputeRun.objects.first()
    assert run is not None and run.status == RecomputeRun.Status.FAILED and run.finished_at
    assert run.error == "ValueError: the inputs of block 2 are broken"
    assert rows() == before  # the blocks that finished were never swapped in
    assert not StagedSuggestion.objects.exists()
    client = Client()
    client.force_login(staff)
    page = client.get("/matching/recompute/").content.decode()
    assert "Failed" in page and "the inputs of block 2 are broken" in page
    assert "It did not finish: every city keeps the suggestions it had." in page
    assert 'http-equiv="refresh"' not in page  # the page stops refreshing: the run is over


def test_a_block_that_fails_on_a_worker_closes_its_run(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """On a worker the error does not reach whoever queued the chord: the task's own failure handler closes the
    run (apply() without throw traces the task as a worker does, failure handlers included)."""

    def broken(*args: Any) -> None:
        raise ValueError("the inputs are broken")

    monkeypatch.setattr("matching.services.runs.rank_rows", broken)
    run = services.create_run()
    result = tasks.compute_block.apply(kwargs={"run_id": run.pk, "number": 0, "start": 0, "stop": 4}, throw=False)
    assert result.failed()
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.FAILED and run.error == "ValueError: the inputs are broken"


def test_the_swap_clears_staged_rows_but_those_of_a_run_still_open(world: dict[str, Any], settings: Any) -> None:
    # On PostgreSQL the swap empties the staged table at once (TRUNCATE) when no other run is open; with one open,
    # its blocks' rows must stay for its own swap.
    settings.MATCHING_BLOCK_SIZE = 3
    first, second = services.create_run(), services.create_run()
    for run in (first, second):
        for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
            services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    staged = StagedSuggestion.objects.filter(run=second).count()

    services.swap_suggestions(run_id=first.pk)

    assert staged and StagedSuggestion.objects.filter(run=second).count() == staged
    assert not StagedSuggestion.objects.filter(run=first).exists()
    assert services.swap_suggestions(run_id=second.pk) == staged == Suggestion.objects.count()
    assert not StagedSuggestion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_swap_does_not_wait_behind_a_reader_of_the_staged_rows(world: dict[str, Any]) -> None:
    # Found in review: the swap's TRUNCATE took its lock whatever the wait, while holding the suggestions' lock; a
    # report (or an idle psql session) that had read the staged table held every city's recompute back.
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    run = services.create_run()
    for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    database = connection.settings_dict
    reader = psycopg2.connect(
        dbname=database["NAME"], user=database["USER"], host=database["HOST"], port=database["PORT"] or 5432
    )
    try:
        reader.cursor().execute("SELECT count(*) FROM matching_stagedsuggestion")  # its lock held until it ends
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting would fail here, not hang the test
        count = services.swap_suggestions(run_id=run.pk)
    finally:
        reader.rollback()
        reader.close()
    assert count == Suggestion.objects.count() > 0
    assert not StagedSuggestion.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by", ["the tasks", "the command"])
def test_after_a_full_recompute_the_suggestions_table_is_vacuumed_for_its_readers(
    world: dict[str, Any], by: str
) -> None:
    # The swap replaces every row: left to autovacuum, the dead rows and an unset visibility map made the step after
    # a hub's recompute (its reads from the first-and-last index) twice as slow for a minute or more.
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    for _twice in range(2):  # the second swap leaves the first one's rows dead
        if by == "the tasks":
            services.start_full_recompute()
        else:
            call_command("compute_suggestions", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(oid) / current_setting('block_size')::int, relallvisible "
            "FROM pg_class WHERE relname = 'matching_suggestion'"
        )
        pages, all_visible = cursor.fetchone()  # the table's pages now, and those the last vacuum found all visible
    assert Suggestion.objects.exists()
    assert pages > 0 and all_visible == pages


def test_a_run_that_never_finishes_is_closed_as_failed_after_two_hours(world: dict[str, Any]) -> None:
    lost = services.create_run()  # its chord's callback never came
    services.compute_block(run_id=lost.pk, number=0, start=0, stop=10)
    assert StagedSuggestion.objects.filter(run=lost).exists()
    recent, finished = services.create_run(), services.create_run()
    RecomputeRun.objects.filter(pk=finished.pk).update(status=RecomputeRun.Status.DONE)
    three_hours_ago = timezone.now() - datetime.timedelta(hours=3)
    RecomputeRun.objects.filter(pk__in=[lost.pk, finished.pk]).update(created_at=three_hours_ago)
    RecomputeRun.objects.filter(pk=recent.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=90))
    assert tasks.close_stale_runs.delay().get() == 1
    statuses = dict(RecomputeRun.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "failed", recent.pk: "queued", finished.pk: "done"}
    assert "Not finished after 2 hours" in RecomputeRun.objects.get(pk=lost.pk).error
    assert not StagedSuggestion.objects.exists()
    assert services.close_stale_runs() == 0  # a closed run is not stale


def test_the_weekly_recompute_during_a_run_starts_none_but_a_stale_run_holds_none_back(world: dict[str, Any]) -> None:
    under_way = services.create_run()
    assert tasks.recompute_all.delay().get() == under_way.pk
    assert RecomputeRun.objects.count() == 1
    RecomputeRun.objects.filter(pk=under_way.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3))
    run, started = services.request_full_recompute()
    run.refresh_from_db()
    assert started and run.pk != under_way.pk and run.status == RecomputeRun.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_two_requests_for_a_full_recompute_at_once_start_one(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check for a run under way and the new run's row are one step (a lock on PostgreSQL): a double
    click that reaches two web workers starts one run."""
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    create_run = services.create_run

    def slow_create_run(**kwargs: Any) -> RecomputeRun:
        time.sleep(0.5)  # the other request checks meanwhile
        return create_run(**kwargs)

    monkeypatch.setattr("matching.services.runs.create_run", slow_create_run)
    monkeypatch.setattr("matching.services.runs._queue_run", lambda run: None)  # the claim alone: no chord
    start = threading.Barrier(2)
    answers: list[tuple[int, bool]] = []
    failures: list[BaseException] = []

    def request() -> None:
        try:
            start.wait()
            run, started = services.request_full_recompute()
            answers.append((run.pk, started))
        except BaseException as error:  # reported to the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    assert RecomputeRun.objects.count() == 1
    assert sorted(started for _, started in answers) == [False, True]
    assert len({pk for pk, _ in answers}) == 1


def test_with_the_task_queue_unreachable_the_run_fails_and_staff_are_told(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, staff: User
) -> None:
    services.start_full_recompute()
    before = rows()

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)  # a broker is configured, and down
    monkeypatch.setattr(celery.canvas._chord, "apply_async", broker_down)
    client = Client()
    client.force_login(staff)
    response = client.post("/matching/recompute/", follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The recompute did not start: the task queue cannot be reached." in page
    run = RecomputeRun.objects.first()
    assert run is not None and run.status == RecomputeRun.Status.FAILED
    assert "OperationalError: Error 111 connecting" in run.error
    assert rows() == before


def test_copy_on_postgresql_writes_the_rows_that_inserts_write(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    everything = Suggestion.objects.order_by("city_id", "rank").values_list(
        "city_id", "rank", "candidate_id", "score", "components"
    )
    monkeypatch.setattr("matching.services.results.COPY_ABOVE", 10**9)
    services.start_full_recompute()
    inserted = list(everything)
    copies: list[int] = []
    copy = results._copy_rows

    def counted(model: Any, rows: Any, same: Any) -> None:
        copies.append(len(rows))
        copy(model, rows, same)

    monkeypatch.setattr("matching.services.results.COPY_ABOVE", 0)
    monkeypatch.setattr("matching.services.results._copy_rows", counted)
    services.start_full_recompute()
    assert sum(copies) == len(inserted)  # every block staged its rows through COPY
    assert list(everything) == inserted
    almaty = world["cities"]["Almaty"]
    copies.clear()
    services.recompute_city(city_id=almaty.pk)
    assert copies and list(everything) == inserted


def test_copy_on_postgresql_keeps_text_that_copys_own_format_would_read_as_escapes(world: dict[str, Any]) -> None:
    # COPY's text format reads a backslash as an escape and a tab as the next field: the components' JSON must
    # come back as it went, whatever its text holds.
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    almaty, bishkek = world["cities"]["Almaty"], world["cities"]["Bishkek"]
    awkward = {"text": 'a\\b\\nc\td "e" \\N, f\nз 中', "number": 1e-05, "list": [0.1, -2, None, True]}
    rows = [(almaty.pk, bishkek.pk, -0.5733500123023987, 1, awkward)]

    with transaction.atomic():
        results._copy_rows(Suggestion, rows, {"computed_at": timezone.now()})

    stored = Suggestion.objects.get(city=almaty, candidate=bishkek)
    assert (stored.components, stored.score, stored.rank) == (awkward, -0.5733500123023987, 1)


def test_one_citys_recompute_reuses_the_table_until_an_input_changes(world: dict[str, Any]) -> None:
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    cities = world["cities"]
    first = inputs.load_table_unless_unchanged()
    assert inputs.load_table_unless_unchanged() is first
    cities["Samarkand"].expertise.add(world["topic"])
    changed = inputs.load_table_unless_unchanged()
    assert changed is not first
    assert changed.expertise[changed.position[cities["Samarkand"].pk]].any()
    City.objects.filter(pk=cities["Almaty"].pk).update(population=F("population") + 1)
    assert inputs.load_table_unless_unchanged() is not changed


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_while_the_table_loads_and_deleted_later_is_not_kept(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found in review: the signature and the table were read one after the other. A dismissal committed between
    # the two went into the table under the signature of the rows without it; once undone, the signature was the
    # same again, and the table with the dismissal was kept.
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    almaty, samarkand = world["cities"]["Almaty"], world["cities"]["Samarkand"]
    database = connection.settings_dict
    other = psycopg2.connect(
        dbname=database["NAME"], user=database["USER"], host=database["HOST"], port=database["PORT"] or 5432
    )
    other.autocommit = True
    load_table = inputs.load_table

    def a_dismissal_meanwhile() -> Any:
        other.cursor().execute(
            "INSERT INTO matching_dismissal (city_id, candidate_id, created_at) VALUES (%s, %s, now())",
            [almaty.pk, samarkand.pk],
        )
        return load_table()

    try:
        monkeypatch.setattr(inputs, "load_table", a_dismissal_meanwhile)
        inputs.load_table_unless_unchanged()
        monkeypatch.setattr(inputs, "load_table", load_table)
        other.cursor().execute("DELETE FROM matching_dismissal")
        table = inputs.load_table_unless_unchanged()
    finally:
        other.close()
    assert len(table.dismissed) == 0


def test_the_inputs_signature_changes_with_every_kind_of_input(world: dict[str, Any], officer: User) -> None:
    # The signature hashes where each row of the table's tables is and which transaction wrote it: an insert, an
    # update and a delete in each kind of input the table reads must change it (here all in the test's one
    # transaction, where every row has the same writer: only the rows' places tell them apart).
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    cities = world["cities"]
    almaty, samarkand, tashkent = cities["Almaty"], cities["Samarkand"], cities["Tashkent"]
    practice = PracticeFactory.create(city=samarkand, status="published")
    changes = [
        lambda: samarkand.needs.add(world["topic"]),
        lambda: samarkand.needs.remove(world["topic"]),
        lambda: practice.topics.clear(),
        lambda: type(practice).objects.filter(pk=practice.pk).update(status="draft"),
        lambda: Dismissal.objects.create(city=almaty, candidate=samarkand, dismissed_by=officer),
        lambda: Dismissal.objects.all().delete(),
        lambda: type(world["topic"]).objects.filter(pk=world["topic"].pk).update(name="Renamed"),
        lambda: almaty.initiated_agreements.update(status="suspended"),
        lambda: type(almaty.country).objects.filter(pk=tashkent.country_id).update(name="Renamed"),
        lambda: City.objects.filter(pk=tashkent.pk).update(name_ru="Ташкент"),
        lambda: CityFactory.create(name="Andijan", country=tashkent.country),
    ]
    # (A row added and then removed leaves the same rows, and may give the first signature again.)
    signatures = [inputs.inputs_signature()]
    for change in changes:
        change()
        signatures.append(inputs.inputs_signature())
    assert all(before != after for before, after in itertools.pairwise(signatures))


def test_partners_with_an_unfinished_agreement_are_not_suggested(world: dict[str, Any]) -> None:
    services.start_full_recompute()
    almaty, tashkent = world["cities"]["Almaty"], world["cities"]["Tashkent"]
    assert not Suggestion.objects.filter(city=almaty, candidate=tashkent).exists()
    assert not Suggestion.objects.filter(city=tashkent, candidate=almaty).exists()


def test_a_change_to_a_citys_needs_changes_its_suggestions_after_commit_without_a_full_recompute(
    world: dict[str, Any], officer: User, django_capture_on_commit_callbacks: Any
) -> None:
    cities = world["cities"]
    almaty, samarkand = cities["Almaty"], cities["Samarkand"]
    services.start_full_recompute()
    runs = RecomputeRun.objects.count()
    samarkand.expertise.add(world["topic"])
    before = rows(almaty)
    assert (almaty.pk, 1, samarkand.pk) not in [row[:3] for row in before]

    form = CityProfileForm({"needs": [world["topic"].pk], "expertise": []}, instance=almaty)
    assert form.is_valid(), form.errors
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        city_services.save_city_profile(
            city=form.save(commit=False), needs=form.cleaned_data["needs"], expertise=form.cleaned_data["expertise"]
        )
        assert rows(almaty) == before  # nothing changes before the commit
    assert callbacks
    after = Suggestion.objects.filter(city=almaty).order_by("rank").first()
    assert after is not None and after.candidate == samarkand
    assert any(reason["code"] == "needs" for reason in after.components["reasons"])
    assert RecomputeRun.objects.count() == runs
    assert not PendingRecompute.objects.exists()


@pytest.fixture
def thirty_six_towns() -> list[City]:
    """Nine towns in each of four countries, of random sizes and places: every town has more than k candidates."""
    rng = np.random.default_rng(7)
    countries = [CountryFactory.create(code=code) for code in ("KZ", "KG", "UZ", "RU")]
    return [
        CityFactory.create(
            name=f"Town {number}",
            country=countries[number % len(countries)],
            population=int(rng.integers(20_000, 2_000_000)),
            latitude=float(rng.uniform(35, 55)),
            longitude=float(rng.uniform(50, 90)),
        )
        for number in range(36)
    ]


def test_a_change_to_a_citys_profile_recomputes_the_other_lists_it_reaches_as_a_full_recompute_would(
    thirty_six_towns: list[City], django_capture_on_commit_callbacks: Any
) -> None:
    """Town 0 gains expertise that every other town needs and eight have, then loses it: after each commit, every
    list is the one a full recompute gives, though only Town 0 changed, and the lists it does not reach are left
    as they were."""
    topic = TopicFactory.create(slug="waste", name="Waste management")
    changed, *others = thirty_six_towns
    for town in others:
        town.needs.add(topic)
    for town in others[:8]:
        town.expertise.add(topic)
    services.start_full_recompute()
    runs = RecomputeRun.objects.count()
    for expertise, offered in (([topic], True), ([], False)):
        before = rows()
        computed = dict(Suggestion.objects.values_list("city_id", "computed_at").distinct())
        with django_capture_on_commit_callbacks(execute=True):
            city_services.save_city_profile(city=changed, needs=[], expertise=expertise)
        assert RecomputeRun.objects.count() == runs
        after = rows()
        lists = {city for city, _rank, _candidate, _score in set(after) ^ set(before)}
        assert lists - {changed.pk}, "no other city's list changed"
        if offered:
            # Not only at the top: it enters lists below their first place too (judged by their k-th score).
            listed_before = {city for city, _rank, candidate, _score in before if candidate == changed.pk}
            entered = {city: rank for city, rank, candidate, _score in after if candidate == changed.pk}
            assert any(rank > 1 for city, rank in entered.items() if city not in listed_before), entered
        untouched = [
            city for city, at in Suggestion.objects.values_list("city_id", "computed_at") if at == computed[city]
        ]
        assert untouched, "every city was recomputed"
        # Towns that need the topic are offered Town 0 for it, and once it is gone, no longer.
        listing = Suggestion.objects.filter(candidate=changed).values_list("components", flat=True)
        assert any(reason["code"] == "needs" for row in listing for reason in row["reasons"]) is offered
        services.start_full_recompute()
        runs += 1
        assert rows() == after


def test_a_practice_published_reaches_the_lists_of_the_cities_that_need_its_topic(
    thirty_six_towns: list[City], coordinator: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Town 0 (Kazakhstan) publishes a practice on a topic eleven towns need: they are offered Town 0 for it at
    once, the practice counted in the reason, as the weekly full recompute would offer it."""
    topic = TopicFactory.create(slug="waste", name="Waste management")
    author, *others = thirty_six_towns
    for town in others[:11]:
        town.needs.add(topic)
    services.start_full_recompute()
    practice = PracticeFactory.create(city=author, status="submitted", topics=[topic])
    with django_capture_on_commit_callbacks(execute=True):
        practice_services.make_move(practice=practice, move="publish", by=coordinator)
    listing = Suggestion.objects.filter(candidate=author).values_list("components", flat=True)
    offered = [reason for row in listing for reason in row["reasons"] if reason["code"] == "needs"]
    assert offered and all(reason["practices"] == 1 for reason in offered)
    after = rows()
    services.start_full_recompute()
    assert rows() == after


def test_a_city_recomputed_during_a_full_recompute_keeps_its_newer_suggestions_at_the_swap(
    world: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Its needs changed after its block read the inputs: the block's rows are older than the city's own."""
    settings.MATCHING_BLOCK_SIZE = 4
    cities = world["cities"]
    almaty, samarkand = cities["Almaty"], cities["Samarkand"]
    samarkand.expertise.add(world["topic"])
    services.start_full_recompute()
    run = services.create_run()
    for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    staged = list(
        StagedSuggestion.objects.filter(run=run).order_by("city_id", "rank").values_list("city_id", "candidate_id")
    )
    with django_capture_on_commit_callbacks(execute=True):
        city_services.save_city_profile(city=almaty, needs=[world["topic"]], expertise=[])
    newer = rows(almaty)
    assert newer[0][2] == samarkand.pk  # Almaty now needs what Samarkand offers
    assert [row for row in staged if row[0] == almaty.pk] != [row[::2] for row in newer]
    # The cities whose lists Almaty's change reaches were recomputed with it (here every city: each holds fewer
    # than k), after their blocks read the inputs too.
    before_the_swap = rows()
    services.swap_suggestions(run_id=run.pk)
    assert rows(almaty) == newer
    assert rows() == before_the_swap
    services.start_full_recompute()
    assert rows() == before_the_swap


def test_a_citys_recompute_that_read_before_a_change_and_finished_last_keeps_the_newer_rows(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """Two recomputes of one city overlap: the first read the inputs before a change committed, the second
    after it, and the first writes last. Its older rows must not replace the second's."""
    cities = world["cities"]
    almaty, samarkand = cities["Almaty"], cities["Samarkand"]
    samarkand.expertise.add(world["topic"])
    services.start_full_recompute()
    read_before = timezone.now()
    table = inputs.load_table()
    older = services.rank_rows(table, np.array([table.position[almaty.pk]]), inputs.topic_ids())
    with django_capture_on_commit_callbacks(execute=True):
        city_services.save_city_profile(city=almaty, needs=[world["topic"]], expertise=[])
    newer = rows(almaty)
    assert newer[0][2] == samarkand.pk  # the second recompute, after the change: Almaty needs what Samarkand offers
    assert [candidate for candidate, _score, _components in older[0][1]][:1] != [samarkand.pk]
    with transaction.atomic():
        assert services.write_suggestions(older, read_at=read_before) == 0
    assert rows(almaty) == newer


def test_a_city_added_during_a_full_recompute_keeps_its_own_suggestions_at_the_swap(world: dict[str, Any]) -> None:
    """Its block read the cities before it existed: the run stages nothing for it, and must not take away the
    suggestions its own recompute gave it."""
    services.start_full_recompute()
    run = services.create_run()
    for number, (start, stop) in enumerate(services.block_ranges(run.city_count)):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    almaty = world["cities"]["Almaty"]
    added = CityFactory.create(name="Taraz", country=almaty.country, population=360_000, latitude=42.9, longitude=71.37)
    services.recompute_city(city_id=added.pk)
    own = rows(added)
    assert own
    services.swap_suggestions(run_id=run.pk)
    assert rows(added) == own


def test_a_city_deleted_during_a_full_recompute_fails_the_run_rather_than_stage_a_city_twice(
    world: dict[str, Any], settings: Any
) -> None:
    """The blocks are cut at positions in id order when the run begins; a deletion shifts every later one."""
    settings.MATCHING_BLOCK_SIZE = 4
    services.start_full_recompute()
    before = rows()
    run = services.create_run()
    first, *rest = services.block_ranges(run.city_count)
    services.compute_block(run_id=run.pk, number=0, start=first[0], stop=first[1])
    kashgar = world["cities"]["Kashgar"].pk
    world["cities"]["Kashgar"].delete()  # no agreement holds it
    for number, (start, stop) in enumerate(rest, start=1):
        services.compute_block(run_id=run.pk, number=number, start=start, stop=stop)
    services.swap_suggestions(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.FAILED and "Cities were deleted during the run" in run.error
    assert rows() == [row for row in before if kashgar not in (row[0], row[2])]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["the swap", "the same city's recompute"])
def test_a_citys_own_recompute_waits_for_a_write_of_suggestions_to_commit(world: dict[str, Any], first: str) -> None:
    """Writers of suggestions take the suggestions' lock (on PostgreSQL) until they commit: a city's recompute
    started meanwhile (the sweeper's second try of a slow one, say) waits, then replaces the rows written,
    rather than failing on them at its insert."""
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    almaty = world["cities"]["Almaty"]
    services.start_full_recompute()
    expected = rows(almaty)
    failures: list[BaseException] = []

    def recompute() -> None:
        try:
            services.recompute_city(city_id=almaty.pk)
        except BaseException as error:  # reported to the test's thread
            failures.append(error)
        finally:
            connection.close()

    with transaction.atomic():
        if first == "the swap":
            # What the swap does to the city: its rows deleted, and the block's inserted (here, the same but for
            # the scores), which a transaction that started before cannot see.
            services.lock_suggestions()
            swapped = list(Suggestion.objects.filter(city=almaty))
            Suggestion.objects.filter(city=almaty).delete()
            for suggestion in swapped:
                suggestion.pk, suggestion.score = None, suggestion.score + 100
            Suggestion.objects.bulk_create(swapped)
        else:
            services.recompute_city(city_id=almaty.pk)
        thread = threading.Thread(target=recompute)
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive()  # waiting for the first to commit
    thread.join(timeout=30)
    # Without the lock, it waits for the rows the first deleted, then deletes none (the rows the first inserted
    # are newer than its statement) and fails on them at its insert.
    assert not thread.is_alive() and not failures, failures
    assert rows(almaty) == expected


@pytest.mark.django_db(transaction=True)
def test_recomputes_after_a_change_run_one_at_a_time(world: dict[str, Any]) -> None:
    """Which lists a change reaches is judged against the lists stored: a recompute that read the inputs before
    the change and wrote after that judgement would leave a list without the change. On PostgreSQL each
    recompute, and the step after it, holds an advisory lock from its reading to its commit."""
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    almaty = world["cities"]["Almaty"]
    services.start_full_recompute()
    failures: list[BaseException] = []

    def recompute() -> None:
        try:
            services.recompute_city(city_id=almaty.pk)
            services.recompute_lists_it_reaches(city_id=almaty.pk)
        except BaseException as error:  # reported to the test's thread
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=recompute)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [one_city.RECOMPUTE_LOCK])
    try:
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive()  # waiting for the recompute under way
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [one_city.RECOMPUTE_LOCK])
    thread.join(timeout=30)
    assert not thread.is_alive() and not failures, failures


def test_not_interested_recomputes_the_citys_own_list_and_no_other(
    world: dict[str, Any], officer: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """A dismissal alters the city's own list only: the step after its recompute, a second for a city many lists
    name (Bishkek's 968 in the directory; in a walk-through each "Not interested" took 2 s), is not taken. A change
    that can alter other lists, claimed in the same burst, takes it."""
    services.start_full_recompute()
    almaty = world["cities"]["Almaty"]
    reaches: list[Any] = []
    monkeypatch.setattr(tasks.recompute_lists_it_reaches, "apply_async", lambda *a, **k: reaches.append(k["args"]))
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.dismiss_candidate(city=almaty, candidate=first.candidate, by=officer)
    assert not Suggestion.objects.filter(city=almaty, candidate=first.candidate).exists()
    assert Suggestion.objects.filter(city=almaty).get(rank=1).computed_at > first.computed_at  # its own recomputed
    with django_capture_on_commit_callbacks(execute=True):
        services.undo_dismissal(city=almaty, candidate=first.candidate, by=officer)
    assert Suggestion.objects.filter(city=almaty, candidate=first.candidate).exists()
    assert reaches == []
    with django_capture_on_commit_callbacks(execute=True):
        services.dismiss_candidate(city=almaty, candidate=first.candidate, by=officer)
        services.schedule_city_recompute([almaty.pk])  # its profile changed in the same burst, say
    assert reaches == [[almaty.pk]]
    assert not PendingRecompute.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_citys_task_takes_its_claim_only_once_a_change_that_found_the_claim_has_committed(
    world: dict[str, Any],
) -> None:
    """A change that finds the city's claim enqueues nothing: the claim's task is to read it. Found in review: that
    task could take the claim and read the inputs before the change committed, which then waited for the weekly
    run. The change holds the claim's row until it commits, and the task waits to take it."""
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    almaty = world["cities"]["Almaty"]
    PendingRecompute.objects.create(city=almaty)  # an earlier change's claim, its task about to begin
    taken = threading.Event()

    def task() -> None:
        try:
            services.take_claim(city_id=almaty.pk)
            taken.set()
        finally:
            connection.close()

    thread = threading.Thread(target=task)
    with transaction.atomic():
        services.schedule_city_recompute([almaty.pk])  # a second change finds the claim
        thread.start()
        assert not taken.wait(timeout=1)  # the task waits for the change
    thread.join(timeout=10)
    assert taken.is_set() and not PendingRecompute.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_that_claims_a_city_beside_a_dismissal_keeps_its_need_of_the_other_lists(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: a dismissal and a profile change at once each found no claim and inserted one; the
    dismissal's row won, and the profile change's need of the other cities' lists was lost with its insert."""
    database_url()  # PostgreSQL only: skipped elsewhere, a failure in CI without it
    monkeypatch.setattr(one_city, "enqueue_city_recompute", lambda *args, **kwargs: None)  # the claim is looked at
    almaty = world["cities"]["Almaty"]
    looking, failures = threading.Event(), []

    def profile_change() -> None:
        try:
            with transaction.atomic():
                looking.set()
                services.schedule_city_recompute([almaty.pk])  # waits for the dismissal's row, then finds it
        except BaseException as error:  # reported to the test's thread
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=profile_change)
    with transaction.atomic():
        services.schedule_city_recompute([almaty.pk], own_list_only=True)  # the dismissal's claim, uncommitted
        thread.start()
        looking.wait(timeout=5)
        time.sleep(0.5)  # the profile change inserts its claim meanwhile
    thread.join(timeout=10)
    assert not failures, failures
    assert PendingRecompute.objects.get(city=almaty).reaches_other_lists


def test_a_burst_of_changes_to_one_city_enqueues_one_recompute(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(tasks.recompute_city, "apply_async", lambda *args, **kwargs: sent.append(kwargs))
    almaty = world["cities"]["Almaty"]
    with django_capture_on_commit_callbacks(execute=True):
        for _change in range(5):
            services.schedule_city_recompute([almaty.pk])
    assert len(sent) == 1
    assert sent[0]["countdown"] > 0


def test_a_change_while_the_broker_is_down_is_recomputed_by_the_sweeper_later(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Timeout reading from socket")

    monkeypatch.setattr(tasks.recompute_city, "apply_async", broker_down)
    almaty = world["cities"]["Almaty"]
    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_city_recompute([almaty.pk])  # the change itself goes through
    assert PendingRecompute.objects.filter(city=almaty).exists()  # the claim waits

    sent: list[Any] = []
    monkeypatch.setattr(tasks.recompute_city, "apply_async", lambda *args, **kwargs: sent.append(kwargs["args"]))
    assert services.sweep_pending_recomputes() == 0  # too early: its task may still be on its way
    PendingRecompute.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=6))
    assert services.sweep_pending_recomputes() == 1
    assert sent == [[almaty.pk]]


def test_many_changes_while_the_broker_is_down_commit_and_leave_each_city_to_the_sweeper(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """An import of many cities, say: the change has committed when the full recompute is queued, so a broker
    down must not turn it into an error; the run fails for staff to see and every city keeps a claim."""

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr("matching.services.one_city.FULL_RECOMPUTE_ABOVE", 3)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery.canvas._chord, "apply_async", broker_down)
    city_ids = sorted(city.pk for city in world["cities"].values())
    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_city_recompute(city_ids)  # no exception reaches the change's caller
    run = RecomputeRun.objects.get()
    assert run.status == RecomputeRun.Status.FAILED and "Connection refused" in run.error
    assert sorted(PendingRecompute.objects.values_list("city_id", flat=True)) == city_ids


def test_a_new_draft_agreement_recomputes_both_cities_own_lists_only(
    world: dict[str, Any], officer: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """A draft blocks the pair from each other's lists and changes nothing others see: no other list is recomputed
    (a walk-through waited 15 s for a proposal, the step after each city's recompute reaching 4,515 lists)."""
    services.start_full_recompute()
    reaches: list[Any] = []
    monkeypatch.setattr(tasks.recompute_lists_it_reaches, "apply_async", lambda *a, **k: reaches.append(k["args"]))
    almaty = world["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).order_by("rank").first()
    assert first is not None
    with django_capture_on_commit_callbacks(execute=True):
        agreement_services.create_draft(by=officer, initiator=almaty, partner=first.candidate, title="Draft")
    assert not Suggestion.objects.filter(city=almaty, candidate=first.candidate).exists()
    assert not Suggestion.objects.filter(city=first.candidate, candidate=almaty).exists()
    assert reaches == []


def test_not_interested_hides_the_candidate_until_undone(
    world: dict[str, Any], officer: User, django_capture_on_commit_callbacks: Any
) -> None:
    services.start_full_recompute()
    almaty = world["cities"]["Almaty"]
    first = Suggestion.objects.filter(city=almaty).order_by("rank").first()
    assert first is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.dismiss_candidate(city=almaty, candidate=first.candidate, by=officer)
    assert not Suggestion.objects.filter(city=almaty, candidate=first.candidate).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.undo_dismissal(city=almaty, candidate=first.candidate, by=officer)
    assert not Dismissal.objects.exists()
    assert Suggestion.objects.filter(city=almaty, candidate=first.candidate, rank=1).exists()


def test_an_outsider_cannot_dismiss_for_another_city(world: dict[str, Any], outsider: User) -> None:
    from sco_portal.errors import NotPermittedError

    with pytest.raises(NotPermittedError):
        services.dismiss_candidate(city=world["cities"]["Almaty"], candidate=world["cities"]["Osh"], by=outsider)
    assert not Dismissal.objects.exists()


def test_the_weekly_email_goes_to_the_officers_once_a_week(
    world: dict[str, Any], officer: User, django_capture_on_commit_callbacks: Any
) -> None:
    services.start_full_recompute()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_weekly_suggestions() == 1
        assert services.send_weekly_suggestions() == 0
    messages = Message.objects.filter(event="partner_suggestions", recipient=officer)
    assert messages.count() == 1
    assert "km apart" in messages.get().text_body


def test_the_weekly_email_is_in_the_officers_language(world: dict[str, Any], almaty_city: Any, officer: User) -> None:
    russian = UserFactory.create(role=User.Role.OFFICER, city=almaty_city, language="ru")
    services.start_full_recompute()
    services.send_weekly_suggestions()
    body = Message.objects.get(recipient=russian).text_body
    assert "Города, которые портал предлагает в партнёры городу" in body and "км" in body
    body = Message.objects.get(recipient=officer).text_body  # the same suggestions, read again in English
    assert "The partner cities the portal suggests for Almaty this week:" in body and "km apart" in body


def test_the_weekly_emails_reasons_are_made_once_per_language_without_a_query_each(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    services.start_full_recompute()
    almaty = world["cities"]["Almaty"]
    suggestions = list(
        Suggestion.objects.filter(city=almaty).select_related("candidate__country", "city__country").order_by("rank")
    )
    mail = reasons.for_mail(suggestions)
    with django_assert_num_queries(0):
        for language in ("en", "ru", "en"):
            with translation.override(language):
                texts = [suggestion.reasons for suggestion in mail for _read in range(3)]
    assert any("km apart" in text for group in texts for text in group)


def test_a_city_that_needs_a_topic_is_offered_a_city_with_published_practices_on_it(world: dict[str, Any]) -> None:
    practice_factory = PracticeFactory
    cities = world["cities"]
    almaty, kazan = cities["Almaty"], cities["Kazan"]
    almaty.needs.add(world["topic"])
    for _number in range(3):
        practice_factory.create(city=kazan, status="published", topics=[world["topic"]])
    practice_factory.create(city=cities["Osh"], status="draft", topics=[world["topic"]])
    services.recompute_city(city_id=almaty.pk)
    first = Suggestion.objects.filter(city=almaty).get(rank=1)
    assert first.candidate == kazan
    reason = next(reason for reason in first.components["reasons"] if reason["code"] == "needs")
    assert reason["practices"] == 3
    assert not Suggestion.objects.filter(city=almaty, candidate=cities["Osh"], rank=1).exists()
