"""Ranked search: a title match first, Russian through its word forms, Chinese by characters."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from rest_framework.test import APIClient

from practices.models import Practice
from tests.conftest import missing_service


def found(text: str) -> list[str]:
    return list(Practice.objects.search(text).values_list("title", flat=True))


def test_a_title_match_ranks_above_a_mention_in_the_body(practice_in: Callable[..., Practice]) -> None:
    practice_in("published", title="Smart lighting", solution="Among many things, composting was tried once.")
    practice_in("published", title="Composting in every district", summary="Kitchen waste becomes soil.")
    practice_in("published", title="Bus lanes", summary="Faster buses.")

    assert found("composting") == ["Composting in every district", "Smart lighting"]


def test_a_russian_query_finds_another_form_of_the_word(practice_in: Callable[..., Practice]) -> None:
    if connection.vendor != "postgresql":
        missing_service("Russian stemming needs PostgreSQL full-text search")
    practice_in("published", title="Раздельный сбор отходов", summary="Жители сортируют отходы в четыре контейнера.")
    practice_in("published", title="Скоростные автобусы", summary="Выделенные полосы.")

    # «отход» and «контейнерами» are forms the record never uses.
    assert found("отход") == ["Раздельный сбор отходов"]
    assert found("контейнерами") == ["Раздельный сбор отходов"]


def test_a_chinese_query_finds_a_chinese_record(practice_in: Callable[..., Practice]) -> None:
    practice_in("published", title="上海生活垃圾分类", summary="居民把生活垃圾分为四类投放。")
    practice_in("published", title="杭州城市大脑", summary="交通信号由数据调度。")

    assert found("垃圾分类") == ["上海生活垃圾分类"]
    assert found("城市大脑") == ["杭州城市大脑"]
    assert found("投放") == ["上海生活垃圾分类"]  # in the summary only
    assert found("垃圾%") == []  # a wildcard is a character like any other


def test_the_api_and_the_library_page_search_too(practice_in: Callable[..., Practice]) -> None:
    practice_in("published", title="Composting in every district")
    practice_in("published", title="Bus lanes")

    api = APIClient().get("/api/v1/practices/", {"q": "composting"}).json()["results"]

    assert [row["title"] for row in api] == ["Composting in every district"]
    assert "Bus lanes" not in APIClient().get("/practices/", {"q": "composting"}).content.decode()


def test_postgresql_answers_a_search_from_the_gin_index(practice_in: Callable[..., Practice]) -> None:
    if connection.vendor != "postgresql":
        missing_service("the GIN indexes exist on PostgreSQL only")
    practice_in("published", title="Раздельный сбор отходов")
    searches = (("отходы", "practice_search_ru"), ("waste", "practice_search_en"), ("生活垃圾", "practice_search_text"))
    for text, index in searches:
        sql, params = Practice.objects.search(text).query.sql_with_params()
        with connection.cursor() as cursor:
            # A handful of rows would be scanned; forbid that to see which index the plan can use.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan
