from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from cities.filters import CityFilter
from cities.models import City, Country, Topic
from cities.pagination import DirectoryPagination
from cities.serializers import CityDetailSerializer, CitySerializer, CountrySerializer, TopicSerializer


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    """The SCO member states and partners, with their status history."""

    queryset = Country.objects.prefetch_related("status_history").order_by("code")
    serializer_class = CountrySerializer
    lookup_field = "code"
    pagination_class = None


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """The cooperation topics."""

    queryset = Topic.objects.all()
    serializer_class = TopicSerializer
    pagination_class = None


class CityViewSet(viewsets.ReadOnlyModelViewSet):
    """GeoNames cities of the SCO countries with their profiles. Filter by `country`, population or `q`.

    The list starts with the largest cities. A name search (`q`, any script; case, spaces and
    punctuation do not count) lists exact name matches first, then names that start with it,
    then the others, the largest first within each; an explicit `ordering` overrides both.
    For the unfiltered list of a directory past 50,000 cities, `count` is an estimate.
    """

    filterset_class = CityFilter
    pagination_class = DirectoryPagination

    def get_queryset(self) -> QuerySet[City]:
        queryset = City.objects.select_related("country")
        if self.action == "retrieve":
            return queryset.prefetch_related("needs", "expertise")
        return queryset.defer(*City.LIST_DEFERRED)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return CityDetailSerializer if self.action == "retrieve" else CitySerializer
