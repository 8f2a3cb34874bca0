from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PersonSerializer
from cities.models import City, Topic
from practices import permissions
from practices.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENTS_PER_PRACTICE,
    Practice,
    PracticeAttachment,
    PracticeIndicator,
    PracticeTombstone,
    PracticeTransition,
    SustainableDevelopmentGoal,
    validate_attachment,
)
from sco_portal.content_languages import LANGUAGE_CHOICES, portal_language
from sco_portal.text import CleanTextSerializerMixin


def _format_of(field: Any) -> serializers.DecimalField:
    """A formatter for a model's decimal column, as the model's DRF field formats it (its width and places)."""
    return serializers.DecimalField(max_digits=field.max_digits, decimal_places=field.decimal_places)


# Formatters for the written-out representation below, formatting as the model's DRF fields do;
# shared because they keep no state.
COST_FORMAT = _format_of(Practice._meta.get_field("cost"))
MEASURE_FORMAT = _format_of(PracticeIndicator._meta.get_field("achieved"))
MOMENT_FORMAT = serializers.DateTimeField()


class PracticeCitySerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)

    class Meta:
        model = City
        fields = ["id", "name", "country"]


class IndicatorSerializer(CleanTextSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = PracticeIndicator
        fields = ["indicator", "unit", "baseline", "achieved", "year"]


class PracticeTransitionSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True, help_text="Null for a move the portal made itself.")

    class Meta:
        model = PracticeTransition
        fields = ["move", "from_status", "to_status", "actor", "comment", "created_at"]


class PracticeSerializer(serializers.ModelSerializer):
    """A practice record as clients mirror it."""

    city = PracticeCitySerializer(read_only=True)
    topics: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    sdgs: serializers.PrimaryKeyRelatedField[SustainableDevelopmentGoal] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="UN Sustainable Development Goals, 1–17."
    )
    indicators = IndicatorSerializer(many=True, read_only=True)
    title = serializers.SerializerMethodField(
        help_text="The title in the reader's language (`?lang=` or `Accept-Language`) where the practice has a "
        "translation into it, else as written."
    )
    summary = serializers.SerializerMethodField(help_text="The summary, in the same language as `title`.")
    language = serializers.CharField(read_only=True, help_text="The language the practice is written in (ISO 639-1).")
    shown_language = serializers.SerializerMethodField(
        help_text="The language `title` and `summary` are in: the reader's when there is a translation, "
        "else the practice's own (`language`, as a portal language code where it is one: `zh` is `zh-hans`)."
    )
    is_original = serializers.SerializerMethodField(help_text="False when `title` and `summary` are a translation.")
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
            "shown_language",
            "is_original",
            "is_sample",
            "source_url",
            "url",
            "allowed_moves",
            "published_at",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, practice: Practice) -> dict[str, Any]:
        """The fields above, written out: the list is the API's hot path, and DRF's generic walk over
        29 fields a row cost more than the queries. test_serializers checks it against the generic one."""
        # DRF builds a serializer's fields from the model on first use; this method needs none of them.
        city = practice.city
        shown = practice.in_language()

        def formatted(field: serializers.Field, value: Any) -> Any:
            return None if value is None else field.to_representation(value)

        return {
            "id": practice.pk,
            "status": practice.status,
            "title": shown.title,
            "summary": shown.summary,
            "problem": practice.problem,
            "solution": practice.solution,
            "city": {"id": city.pk, "name": city.name, "country": city.country.code},
            "topics": [topic.slug for topic in practice.topics.all()],
            "indicators": [
                {
                    "indicator": row.indicator,
                    "unit": row.unit,
                    "baseline": formatted(MEASURE_FORMAT, row.baseline),
                    "achieved": formatted(MEASURE_FORMAT, row.achieved),
                    "year": row.year,
                }
                for row in practice.indicators.all()
            ],
            "cost": formatted(COST_FORMAT, practice.cost),
            "currency": practice.currency,
            "funding": practice.funding,
            "start_year": practice.start_year,
            "end_year": practice.end_year,
            "challenges": practice.challenges,
            "success_factors": practice.success_factors,
            "transferability": practice.transferability,
            "contact_name": practice.contact_name,
            "contact_role": practice.contact_role,
            "contact_email": practice.contact_email,
            "sdgs": [goal.pk for goal in practice.sdgs.all()],
            "language": practice.language,
            "shown_language": shown.language,
            "is_original": shown.is_original,
            "is_sample": practice.is_sample,
            "source_url": practice.source_url,
            "url": self.get_url(practice),
            "allowed_moves": self.get_allowed_moves(practice),
            "published_at": formatted(MOMENT_FORMAT, practice.published_at),
            "created_at": MOMENT_FORMAT.to_representation(practice.created_at),
            "updated_at": MOMENT_FORMAT.to_representation(practice.updated_at),
        }

    def get_title(self, practice: Practice) -> str:
        return practice.in_language().title

    def get_summary(self, practice: Practice) -> str:
        return practice.in_language().summary

    def get_shown_language(self, practice: Practice) -> str:
        return practice.in_language().language

    def get_is_original(self, practice: Practice) -> bool:
        return practice.in_language().is_original

    def get_url(self, practice: Practice) -> str:
        request = self.context.get("request")
        path = practice.get_absolute_url()
        # A file written by a task has no request to take the host from.
        return request.build_absolute_uri(path) if request is not None else settings.SITE_URL.rstrip("/") + path

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Practice.Move.choices)))
    def get_allowed_moves(self, practice: Practice) -> list[str]:
        request = self.context.get("request")
        return permissions.allowed_moves(request.user, practice) if request is not None else []


# The list's columns, fetched with values(): what PracticeRowSerializer writes out (city and country
# come in the same query), the three relations in one query each (`with_relations`).
ROW_COLUMNS = (
    "id",
    "status",
    "title",
    "summary",
    "problem",
    "solution",
    "city_id",
    "city__name",
    "city__country_id",
    "city__country__code",
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
    "language",
    "is_sample",
    "source_url",
    "published_at",
    "created_at",
    "updated_at",
)


def in_reader_language(queryset: QuerySet[Practice], language: str | None = None) -> QuerySet[Practice]:
    """`queryset` with each practice's title and summary in `language` (the active one by default) where it
    has a translation into it (`shown_title`, `shown_summary`; else null), for values() rows.

    A left join on the translations' unique (original, language), so at most one row a practice, in the
    page's one query: the list keeps its four queries a page.
    """
    code = portal_language(language or translation.get_language()) or settings.LANGUAGE_CODE
    return queryset.annotate(
        reader_translation=FilteredRelation("translations", condition=Q(translations__language=code)),
        shown_title=F("reader_translation__title"),
        shown_summary=F("reader_translation__summary"),
    )


def with_relations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (values() of ROW_COLUMNS) with their topics, SDGs and indicators, in the order the
    model relations give them (Topic: position, name; SDG: number; indicator: position, id).

    Three queries, as prefetch_related makes, but to plain tuples: no model instance nor related
    manager per row, which is what the list paid for most besides the queries themselves.
    """
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["topics"], row["sdgs"], row["indicators"] = [], [], []
    if not by_id:
        return rows
    topics = Practice.topics.through.objects.filter(practice_id__in=by_id).order_by("topic__position", "topic__name")
    for practice_id, slug in topics.values_list("practice_id", "topic__slug"):
        by_id[practice_id]["topics"].append(slug)
    goals = Practice.sdgs.through.objects.filter(practice_id__in=by_id).order_by("sustainabledevelopmentgoal_id")
    for practice_id, number in goals.values_list("practice_id", "sustainabledevelopmentgoal_id"):
        by_id[practice_id]["sdgs"].append(number)
    indicators = PracticeIndicator.objects.filter(practice_id__in=by_id).order_by("position", "id")
    for practice_id, *values in indicators.values_list("practice_id", *INDICATOR_COLUMNS):
        by_id[practice_id]["indicators"].append(dict(zip(INDICATOR_COLUMNS, values, strict=True)))
    return rows


INDICATOR_COLUMNS = ("indicator", "unit", "baseline", "achieved", "year")


class PracticeRowSerializer(PracticeSerializer):
    """The list's record, written out from a values() row (`with_relations`) rather than an instance.

    The same record as PracticeSerializer (test_serializers compares it with DRF's generic
    representation); the schema is PracticeSerializer's.
    """

    def to_representation(self, row: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
        translated = row.get("shown_title") is not None
        original_language = portal_language(row["language"]) or row["language"]

        def formatted(field: serializers.Field, value: Any) -> Any:
            return None if value is None else field.to_representation(value)

        return {
            "id": row["id"],
            "status": row["status"],
            "title": row["shown_title"] if translated else row["title"],
            "summary": row["shown_summary"] if translated else row["summary"],
            "problem": row["problem"],
            "solution": row["solution"],
            "city": {"id": row["city_id"], "name": row["city__name"], "country": row["city__country__code"]},
            "topics": row["topics"],
            "indicators": [
                {
                    "indicator": indicator["indicator"],
                    "unit": indicator["unit"],
                    "baseline": formatted(MEASURE_FORMAT, indicator["baseline"]),
                    "achieved": formatted(MEASURE_FORMAT, indicator["achieved"]),
                    "year": indicator["year"],
                }
                for indicator in row["indicators"]
            ],
            "cost": formatted(COST_FORMAT, row["cost"]),
            "currency": row["currency"],
            "funding": row["funding"],
            "start_year": row["start_year"],
            "end_year": row["end_year"],
            "challenges": row["challenges"],
            "success_factors": row["success_factors"],
            "transferability": row["transferability"],
            "contact_name": row["contact_name"],
            "contact_role": row["contact_role"],
            "contact_email": row["contact_email"],
            "sdgs": row["sdgs"],
            "language": row["language"],
            "shown_language": portal_language(translation.get_language()) if translated else original_language,
            "is_original": not translated,
            "is_sample": row["is_sample"],
            "source_url": row["source_url"],
            "url": self._url(row["id"]),
            "allowed_moves": self._allowed_moves(row),
            "published_at": formatted(MOMENT_FORMAT, row["published_at"]),
            "created_at": MOMENT_FORMAT.to_representation(row["created_at"]),
            "updated_at": MOMENT_FORMAT.to_representation(row["updated_at"]),
        }

    _url_prefix: str | None = None

    def _url(self, pk: int) -> str:
        # Reversed once per page, not once per row (a list shares one child serializer):
        # the practice URL is a prefix and the id, which test_serializers checks.
        if self._url_prefix is None:
            self._url_prefix = self.get_url(Practice(pk=1)).removesuffix("1/")
        return f"{self._url_prefix}{pk}/"

    def _allowed_moves(self, row: dict[str, Any]) -> list[str]:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            # A visitor or an API key makes no move (permissions.allowed_moves says the same).
            return []
        practice = Practice(pk=row["id"], status=row["status"], city_id=row["city_id"])
        practice.city = City(pk=row["city_id"], country_id=row["city__country_id"])
        return self.get_allowed_moves(practice)


class AttachmentSerializer(serializers.ModelSerializer):
    """A file of a practice: where to download it (never a media URL), its name for people, type and size."""

    url = serializers.SerializerMethodField(help_text="The download (Content-Disposition: attachment).")
    type = serializers.CharField(source="content_type", read_only=True, help_text="application/pdf, image/png, …")
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")

    class Meta:
        model = PracticeAttachment
        fields = ["id", "name", "type", "size", "url", "created_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: PracticeAttachment) -> str:
        path = reverse("api:practice-attachment", args=[attachment.practice_id, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else settings.SITE_URL.rstrip("/") + path


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        validators=[validate_attachment],
        help_text=f"A PDF, or a PNG, JPEG or WebP image, of at most {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB; "
        f"at most {ATTACHMENTS_PER_PRACTICE} per practice.",
    )


class PracticeDetailSerializer(PracticeSerializer):
    """One practice with its history and files (the list leaves both out: they are the detail's)."""

    transitions = PracticeTransitionSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    translations = serializers.SerializerMethodField(help_text="The languages the practice is translated into.")

    def get_translations(self, practice: Practice) -> list[str]:
        return sorted(row.language for row in practice.translations.all())

    def to_representation(self, practice: Practice) -> dict[str, Any]:
        return {
            **super().to_representation(practice),
            "translations": sorted(row.language for row in practice.translations.all()),
            "attachments": AttachmentSerializer(practice.attachments.all(), many=True, context=self.context).data,
            "transitions": PracticeTransitionSerializer(practice.transitions.all(), many=True).data,
        }

    class Meta(PracticeSerializer.Meta):
        fields = [*PracticeSerializer.Meta.fields, "translations", "attachments", "transitions"]


class PracticeWriteSerializer(CleanTextSerializerMixin, serializers.ModelSerializer):
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


class PracticeTranslationSerializer(CleanTextSerializerMixin, serializers.Serializer):
    """A practice's title and summary in one more language; an empty title removes that translation."""

    language = serializers.ChoiceField(choices=[code for code, _name in LANGUAGE_CHOICES])
    title = serializers.CharField(max_length=200, allow_blank=True)
    summary = serializers.CharField(max_length=1000, allow_blank=True, required=False, default="")


class PracticeMoveSerializer(CleanTextSerializerMixin, serializers.Serializer):
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
