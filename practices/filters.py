"""The one practice filter, shared by the library page, the API and the exports."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from cities.models import Country, Topic
from practices.models import FIRST_YEAR, LAST_YEAR, Practice, PracticeIndicator, PracticeQuerySet
from sco_portal.filters import UtcDateTimeFilter
from sco_portal.widgets import AnyYesNo


class PracticeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    topic = django_filters.ModelChoiceFilter(
        queryset=Topic.objects.all(), to_field_name="slug", field_name="topics", label=_("Topic")
    )
    country = django_filters.ModelChoiceFilter(
        queryset=Country.objects.all(), to_field_name="code", field_name="city__country", label=_("Country")
    )
    # By id: the city page links here; the page form carries it without showing a number.
    city = django_filters.NumberFilter(field_name="city", label=_("City"), widget=forms.HiddenInput)
    sdg = django_filters.NumberFilter(
        field_name="sdgs", label=_("SDG"), min_value=1, max_value=17, help_text=_("A goal, 1–17.")
    )
    year_from = django_filters.NumberFilter(
        method="filter_year_from", label=_("Running in or after"), min_value=FIRST_YEAR, max_value=LAST_YEAR
    )
    year_to = django_filters.NumberFilter(
        method="filter_year_to", label=_("Started in or before"), min_value=FIRST_YEAR, max_value=LAST_YEAR
    )
    has_indicators = django_filters.BooleanFilter(
        method="filter_has_indicators", label=_("Has indicators"), widget=AnyYesNo
    )
    updated_after = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        label=_("Changed after"),
        help_text=_("ISO 8601, e.g. 2026-01-31T12:00:00Z."),
    )

    class Meta:
        model = Practice
        fields = ["q", "topic", "country", "city", "sdg", "year_from", "year_to", "has_indicators", "updated_after"]

    def filter_text(self, queryset: PracticeQuerySet, name: str, value: str) -> PracticeQuerySet:
        return queryset.search(value)

    def filter_year_from(self, queryset: PracticeQuerySet, name: str, value: int) -> PracticeQuerySet:
        """Still running in that year or later (no end year: still running)."""
        return queryset.filter(Q(end_year__gte=value) | Q(end_year__isnull=True, start_year__isnull=False))

    def filter_year_to(self, queryset: PracticeQuerySet, name: str, value: int) -> PracticeQuerySet:
        return queryset.filter(start_year__lte=value)

    def filter_has_indicators(self, queryset: PracticeQuerySet, name: str, value: bool) -> PracticeQuerySet:
        rows = Exists(PracticeIndicator.objects.filter(practice=OuterRef("pk")))
        return queryset.filter(rows if value else ~rows)
