"""The one agreement filter, shared by the agreements page and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cities.models import Country, Topic
from partnerships.models import Agreement
from sco_portal.filters import IdFilter
from sco_portal.widgets import AnyYesNo


class AgreementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices, label=_("Status"), empty_label=_("Any"))
    # By id: the city page links here; the page form carries it without showing a number.
    city = IdFilter(method="filter_city", label=_("City"), widget=forms.HiddenInput)
    country = django_filters.ModelChoiceFilter(
        queryset=Country.objects.all(), to_field_name="code", method="filter_country", label=_("Country")
    )
    topic = django_filters.ModelChoiceFilter(
        queryset=Topic.objects.all(), to_field_name="slug", field_name="topics", label=_("Topic")
    )
    dormant = django_filters.BooleanFilter(field_name="is_dormant", label=_("Dormant"), widget=AnyYesNo)

    class Meta:
        model = Agreement
        fields = ["status", "city", "country", "topic", "dormant"]

    def filter_city(self, queryset: QuerySet[Agreement], name: str, value: int) -> QuerySet[Agreement]:
        return queryset.filter(Q(initiator=value) | Q(partner=value))

    def filter_country(self, queryset: QuerySet[Agreement], name: str, value: Country) -> QuerySet[Agreement]:
        return queryset.filter(Q(initiator__country=value) | Q(partner__country=value))
