from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from cities.models import City
from matching.models import Suggestion
from matching.serializers import SuggestionSerializer


@extend_schema(summary="A city's suggested partners, best first, with the reasons for each")
class CitySuggestionsView(generics.ListAPIView[Suggestion]):
    """A city's ranked partner suggestions: candidate, score, rank, reasons (codes with numbers, sentences)."""

    serializer_class = SuggestionSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Suggestion]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no city to look up
            return Suggestion.objects.none()
        city = get_object_or_404(City, pk=self.kwargs["pk"])
        return (
            Suggestion.objects.filter(city=city).select_related("city__country", "candidate__country").order_by("rank")
        )
