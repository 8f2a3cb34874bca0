from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cities.serializers import CitySerializer
from matching import reasons
from matching.models import Suggestion


class ReasonSerializer(serializers.Serializer):
    """One reason: its code, its numbers, and the sentence in the request's language."""

    code = serializers.CharField()
    numbers = serializers.DictField(child=serializers.JSONField(), help_text="The figures behind the reason.")
    text = serializers.CharField()


class SuggestionSerializer(serializers.ModelSerializer[Suggestion]):
    candidate = CitySerializer(read_only=True)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = Suggestion
        fields = ["candidate", "score", "rank", "reasons", "computed_at"]

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, suggestion: Suggestion) -> list[dict[str, Any]]:
        if "topic_names" not in self.context:
            self.context["topic_names"] = reasons.topic_names()  # type: ignore[index]
        names = self.context["topic_names"]
        return [
            {
                "code": reason["code"],
                "numbers": {key: value for key, value in reason.items() if key != "code"},
                "text": reasons.sentence(reason, suggestion.city, suggestion.candidate, names),
            }
            for reason in reasons.ordered(suggestion.components.get("reasons", []))
        ]
