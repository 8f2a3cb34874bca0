"""The one city filter, shared by the directory page and the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from cities.models import City, Country


class _CountriesWithCities(django_filters.fields.ModelChoiceIterator):
    """The choices offered: only countries that have cities, since any other would list nothing.

    Narrowed when the choices are listed, not when the field is made: the API
    checks a country code on every request but never lists the choices.
    """

    def _offered(self) -> None:
        self.queryset = self.field.queryset.filter(Exists(City.objects.filter(country=OuterRef("pk"))))

    def __iter__(self) -> Iterator[Any]:
        self._offered()
        return super().__iter__()

    def __len__(self) -> int:
        self._offered()
        return super().__len__()


class CountryField(django_filters.fields.ModelChoiceField):
    """Offers the countries that have cities, yet accepts any known country (whose list is then empty)."""

    iterator = _CountriesWithCities


class CountryFilter(django_filters.ModelChoiceFilter):
    field_class = CountryField


class DirectoryOrderingFilter(django_filters.OrderingFilter):
    """The order asked for, then the id, so that pages never share or skip a city."""

    def filter(self, qs: QuerySet[City], value: list[str] | None) -> QuerySet[City]:
        # "ordering=," is two empty names: no order asked for, not a field named "".
        params = [param for param in value or [] if param]
        if not params:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in params), "id")


class CityFilter(django_filters.FilterSet):
    """Name search, country, population and an order; the largest cities first when no order is asked.

    A name search orders its matches by how well they match (see `CityQuerySet.search`);
    an explicit `ordering` overrides that.
    """

    q = django_filters.CharFilter(method="search", label=_("Name (any script)"))
    country = CountryFilter(
        field_name="country",
        to_field_name="code",
        queryset=Country.objects.all(),
        label=_("Country"),
        help_text=_("ISO 3166 alpha-2 code, e.g. KZ"),
    )
    min_population = django_filters.NumberFilter(
        field_name="population", lookup_expr="gte", label=_("Population at least")
    )
    max_population = django_filters.NumberFilter(
        field_name="population", lookup_expr="lte", label=_("Population at most")
    )
    ordering = DirectoryOrderingFilter(
        fields=(("name", "name"), ("population", "population"), ("country__name", "country")),
        # Each label in full: django-filter builds "Name (descending)" with its own catalogue, which has no
        # Simplified Chinese and is formatted once, in whatever language is active when the module loads.
        field_labels={
            "name": _("Name"),
            "-name": _("Name (descending)"),
            "population": _("Population"),
            "-population": _("Population (descending)"),
            "country__name": _("Country"),
            "-country": _("Country (descending)"),  # descending labels go by the parameter, not the field
        },
        label=_("Sort by"),
    )

    class Meta:
        model = City
        fields = ["q", "country", "min_population", "max_population"]

    def filter_queryset(self, queryset: QuerySet[City]) -> QuerySet[City]:
        # The filters run in declaration order and each order_by replaces the one before:
        # this default, then the search's ranking, then an explicit `ordering`.
        return super().filter_queryset(queryset.order_by(*City.DIRECTORY_ORDER))

    def search(self, queryset: QuerySet[City], name: str, value: str) -> QuerySet[City]:
        return queryset.search(value)  # type: ignore[attr-defined]
