"""Paging the city directory, on the page and in the API, without counting the whole table for every page."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet

from sco_portal.pagination import PageNumberPagination

# Below this many rows an exact count is cheap; above it, on PostgreSQL, it costs more than the page.
ESTIMATE_FROM = 50_000


def estimated_size(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of how many rows an unfiltered queryset has; None for a filtered one or on SQLite.

    The planner's statistics (`pg_class.reltuples`, refreshed by ANALYZE and
    autovacuum) know a table's size to within a percent or so for free, where
    `COUNT(*)` reads every row: at 100,000 cities that took longer than the page.
    """
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.where or query.distinct or query.is_sliced or query.combinator:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table])
        row = cursor.fetchone()
    # -1: never analysed since it was created.
    return int(row[0]) if row and row[0] >= 0 else None


class DirectoryPage(Page):
    """A page that knows from its own rows whether another follows, since the count may be an estimate."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator[Any], *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class DirectoryPaginator(Paginator):
    """Django's paginator, except that a large unfiltered directory's size is PostgreSQL's estimate.

    A filtered list is counted exactly: the filters' indexes keep that cheap. When
    the size is an estimate it may be a little short or long, so a page fetches
    one row more than it shows to know whether another page follows, and any page
    number is accepted: paging reaches the last city and stops where the rows do.
    """

    @cached_property
    def is_estimate(self) -> bool:
        return self._size[1]

    @cached_property
    def count(self) -> int:
        return self._size[0]

    @cached_property
    def _size(self) -> tuple[int, bool]:
        estimate = estimated_size(self.object_list) if isinstance(self.object_list, QuerySet) else None
        if estimate is not None and estimate >= ESTIMATE_FROM:
            return estimate, True
        return super().count, False

    def validate_number(self, number: Any) -> int:
        if not self.is_estimate:
            return super().validate_number(number)
        try:
            valid = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        # Pages past the estimate may hold rows, so only numbers below 1 are refused.
        return valid if valid >= 1 else super().validate_number(valid)

    def page(self, number: Any) -> Page[Any]:
        if not self.is_estimate:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return DirectoryPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class DirectoryPagination(PageNumberPagination):
    """The API's page envelope for the directory; `count` is an estimate for the unfiltered list of a large one."""

    django_paginator_class = DirectoryPaginator
