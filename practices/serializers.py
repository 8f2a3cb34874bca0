from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cities.models import City, Topic
from practices import permissions
from practices.models import (
    Practice,
    PracticeIndicator,
    PracticeTombstone,
    PracticeTransition,
    SustainableDevelopmentGoal,
)


class CityRefSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)

    class Meta:
        model = City
        fields = ["id", "name", "country"]


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = PracticeIndicator
        fields = ["indicator", "unit", "baseline", "achieved", "year"]


class PracticeTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = PracticeTransition
        fields = ["move", "from_status", "to_status", "actor", "comment", "created_at"]


class PracticeSerializer(serializers.ModelSerializer):
    """A practice record as clients mirror it."""

    city = CityRefSerializer(read_only=True)
    topics: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    sdgs: serializers.PrimaryKeyRelatedField[SustainableDevelopmentGoal] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="UN Sustainable Development Goals, 1–17."
    )
    indicators = IndicatorSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="The practice's page.")
    allowed_moves = serializers.SerializerMethodField(help_text="Moves the requesting person may make now.")

    class Meta:
        model = Practice
        fields = [
            "id",
            "status",
            "title",
            "summary",
            "problem",
            "solution",
            "city",
            "topics",
            "indicators",
            "cost",
            "currency",
            "funding",
            "start_year",
            "end_year",
            "challenges",
            "success_factors",
            "transferability",
            "contact_name",
            "contact_role",
            "contact_email",
            "sdgs",
            "language",
            "is_sample",
            "source_url",
            "url",
            "allowed_moves",
            "published_at",
            "created_at",
            "updated_at",
        ]

    def get_url(self, practice: Practice) -> str:
        request = self.context.get("request")
        path = practice.get_absolute_url()
        # A file written by a task has no request to take the host from.
        return request.build_absolute_uri(path) if request is not None else settings.SITE_URL.rstrip("/") + path

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Practice.Move.choices)))
    def get_allowed_moves(self, practice: Practice) -> list[str]:
        request = self.context.get("request")
        return permissions.allowed_moves(request.user, practice) if request is not None else []


class PracticeDetailSerializer(PracticeSerializer):
    transitions = PracticeTransitionSerializer(many=True, read_only=True)

    class Meta(PracticeSerializer.Meta):
        fields = [*PracticeSerializer.Meta.fields, "transitions"]


class PracticeWriteSerializer(serializers.ModelSerializer):
    """What an officer sends to write a practice (POST) or change it (PATCH); indicators replace the old rows."""

    city = serializers.PrimaryKeyRelatedField(queryset=City.objects.all())
    topics = serializers.PrimaryKeyRelatedField(queryset=Topic.objects.all(), many=True, allow_empty=False)
    sdgs = serializers.PrimaryKeyRelatedField(
        queryset=SustainableDevelopmentGoal.objects.all(), many=True, required=False, help_text="Numbers 1–17."
    )
    indicators = IndicatorSerializer(many=True, required=False)

    class Meta:
        model = Practice
        fields = [
            "city",
            "title",
            "summary",
            "problem",
            "solution",
            "topics",
            "indicators",
            "cost",
            "currency",
            "funding",
            "start_year",
            "end_year",
            "challenges",
            "success_factors",
            "transferability",
            "contact_name",
            "contact_role",
            "contact_email",
            "sdgs",
            "language",
            "source_url",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "city" in attrs and attrs["city"].pk != self.instance.city_id:
            raise serializers.ValidationError({"city": _("A practice's city cannot change.")})

        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        start, end = current("start_year"), current("end_year")
        if start and end and end < start:
            raise serializers.ValidationError({"end_year": _("The end year cannot be before the start year.")})
        if current("cost") is not None and not current("currency"):
            raise serializers.ValidationError({"currency": _("Give the currency of the cost (ISO 4217).")})
        return attrs


class MoveSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="return: what to change."
    )


class TombstoneSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="practice_id", help_text="The practice that left the public set.")

    class Meta:
        model = PracticeTombstone
        fields = ["id", "reason", "at"]


class DeletedFeedSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; what left the public set after it.")
