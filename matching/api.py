from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cities.models import City
from matching import services
from matching.models import Suggestion
from matching.serializers import SuggestionSerializer
from sco_portal.content_languages import READER_LANGUAGE, ReaderLanguageView


class SuggestionsQuery(serializers.Serializer):
    same_country = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The best cities of the city's own country instead (the stored suggestions leave it out); "
        "computed on request.",
    )


@extend_schema(
    summary="A city's suggested partners, best first, with the reasons for each",
    parameters=[SuggestionsQuery, READER_LANGUAGE],
)
class CitySuggestionsView(ReaderLanguageView, generics.ListAPIView[Suggestion]):
    """A city's ranked partner suggestions: candidate, score, rank, reasons (codes with numbers, sentences)."""

    serializer_class = SuggestionSerializer
    pagination_class = None
    queryset = Suggestion.objects.none()  # the model, for the schema; list() reads the city's own
    query_serializer_class = SuggestionsQuery  # its parameters, refused with a 400 (sco_portal/schema.py)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        city = get_object_or_404(City.objects.select_related("country"), pk=kwargs["pk"])
        if query.validated_data["same_country"]:
            suggestions = services.suggestions_in_own_country(city=city)
        else:
            suggestions = list(
                Suggestion.objects.filter(city=city)
                .select_related("city__country", "candidate__country")
                .order_by("rank")
            )
        return Response(self.get_serializer(suggestions, many=True).data)
