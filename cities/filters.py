"""The one city filter, shared by the directory page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cities.models import City, Country


class DirectoryOrderingFilter(django_filters.OrderingFilter):
    """The order asked for, then the id, so that pages never share or skip a city."""

    def filter(self, qs: QuerySet[City], value: list[str] | None) -> QuerySet[City]:
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value), "id")


class CityFilter(django_filters.FilterSet):
    """Name search, country, population and an order; the largest cities first when no order is asked.

    A name search orders its matches by how well they match (see `CityQuerySet.search`);
    an explicit `ordering` overrides that.
    """

    q = django_filters.CharFilter(method="search", label=_("Name (any script)"))
    country = django_filters.ModelChoiceFilter(
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
        field_labels={"name": _("Name"), "population": _("Population"), "country__name": _("Country")},
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
