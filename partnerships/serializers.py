from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PersonSerializer
from cities.models import City, Topic
from partnerships import permissions
from partnerships.forms import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from partnerships.models import (
    MEMORANDUM_MAX_BYTES,
    Agreement,
    AgreementActivity,
    AgreementTransition,
    validate_memorandum,
)
from sco_portal.content_languages import LANGUAGE_CHOICES
from sco_portal.text import CleanTextSerializerMixin


class CityRefSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)

    class Meta:
        model = City
        fields = ["id", "name", "country"]


class TransitionSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True, help_text="Null for a move the portal made itself.")

    class Meta:
        model = AgreementTransition
        fields = ["move", "from_status", "to_status", "actor", "comment", "created_at"]


class ActivitySerializer(CleanTextSerializerMixin, serializers.ModelSerializer):
    author = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AgreementActivity
        fields = ["id", "date", "kind", "description", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class AgreementSerializer(serializers.ModelSerializer):
    initiator = CityRefSerializer(read_only=True)
    partner = CityRefSerializer(read_only=True)
    topics: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    is_dormant = serializers.BooleanField(read_only=True)
    last_activity_on = serializers.DateField(read_only=True, allow_null=True)
    approvals = serializers.SerializerMethodField()
    allowed_moves = serializers.SerializerMethodField(help_text="Moves the requesting person may make now.")
    memorandum = serializers.SerializerMethodField(
        help_text="Where to download the signed memorandum (a PDF), or null when there is none."
    )
    title = serializers.SerializerMethodField(help_text="The title in the reader's language where there is one.")
    summary = serializers.SerializerMethodField(help_text="The summary, in the same language as `title`.")
    language = serializers.SerializerMethodField(
        help_text="The language `title` and `summary` are in: the reader's (`?lang=` or `Accept-Language`) "
        "when the agreement has a translation into it, else `original_language`."
    )
    is_original = serializers.SerializerMethodField(help_text="False when `title` and `summary` are a translation.")
    translations = serializers.SerializerMethodField(help_text="The languages the agreement is translated into.")

    class Meta:
        model = Agreement
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "summary",
            "language",
            "original_language",
            "is_original",
            "translations",
            "initiator",
            "partner",
            "topics",
            "start_date",
            "end_date",
            "signed_on",
            "memorandum",
            "source",
            "is_dormant",
            "last_activity_on",
            "approvals",
            "renewal_end_date",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]

    def get_title(self, agreement: Agreement) -> str:
        return agreement.in_language().title

    def get_summary(self, agreement: Agreement) -> str:
        return agreement.in_language().summary

    def get_language(self, agreement: Agreement) -> str:
        return agreement.in_language().language

    def get_is_original(self, agreement: Agreement) -> bool:
        return agreement.in_language().is_original

    def get_translations(self, agreement: Agreement) -> list[str]:
        return sorted(row.language for row in agreement.translations.all())

    def get_approvals(self, agreement: Agreement) -> dict[str, bool]:
        return {
            "initiator_country": agreement.initiator_country_approved_by_id is not None,
            "partner_country": agreement.partner_country_approved_by_id is not None,
        }

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_memorandum(self, agreement: Agreement) -> str | None:
        if not agreement.memorandum:
            return None
        url = reverse("api:agreement-memorandum", args=[agreement.pk])
        return self.context["request"].build_absolute_uri(url)

    def get_allowed_moves(self, agreement: Agreement) -> list[str]:
        return permissions.allowed_moves(self.context["request"].user, agreement)


class AgreementDetailSerializer(AgreementSerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    activities = ActivitySerializer(many=True, read_only=True)

    class Meta(AgreementSerializer.Meta):
        fields = [*AgreementSerializer.Meta.fields, "transitions", "activities"]


class AgreementWriteSerializer(CleanTextSerializerMixin, serializers.ModelSerializer):
    """What an officer sends to draft an agreement (POST) or change a draft (PATCH)."""

    initiator = serializers.PrimaryKeyRelatedField(queryset=City.objects.all())
    partner = serializers.PrimaryKeyRelatedField(queryset=City.objects.all())
    topics = serializers.PrimaryKeyRelatedField(queryset=Topic.objects.all(), many=True, required=False)

    class Meta:
        model = Agreement
        fields = [
            "initiator",
            "partner",
            "kind",
            "title",
            "summary",
            "original_language",
            "topics",
            "start_date",
            "end_date",
        ]
        extra_kwargs = {"summary": {"max_length": SUMMARY_MAX_LENGTH}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and ({"initiator", "partner"} & attrs.keys()):
            raise serializers.ValidationError({"partner": "The cities of an agreement cannot change; draft a new one."})
        return attrs


class TranslationSerializer(CleanTextSerializerMixin, serializers.Serializer):
    """An agreement's title and summary in one more language; an empty title removes that translation."""

    language = serializers.ChoiceField(choices=[code for code, _name in LANGUAGE_CHOICES])
    title = serializers.CharField(max_length=200, allow_blank=True)
    summary = serializers.CharField(max_length=SUMMARY_MAX_LENGTH, allow_blank=True, required=False, default="")


class MoveSerializer(CleanTextSerializerMixin, serializers.Serializer):
    """A move with nothing but an optional comment (propose, accept, decline, withdraw, ...)."""

    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX_LENGTH)


class ApproveMoveSerializer(MoveSerializer):
    country = serializers.CharField(
        required=False,
        max_length=2,
        help_text="The country an SCO coordinator approves for (ISO code); a national coordinator approves for theirs.",
    )


class SignMoveSerializer(MoveSerializer):
    """Signing uploads the memorandum: a multipart form with the PDF as a file."""

    signed_on = serializers.DateField(help_text="The date the memorandum was signed.")
    memorandum = serializers.FileField(
        validators=[validate_memorandum],
        help_text=f"The signed memorandum, a PDF of at most {MEMORANDUM_MAX_BYTES // (1024 * 1024)} MB.",
    )


class RenewMoveSerializer(MoveSerializer):
    end_date = serializers.DateField(help_text="The new end of term.")


# The request body of each move that takes more than a comment.
MOVE_SERIALIZERS: dict[str, type[MoveSerializer]] = {
    "approve": ApproveMoveSerializer,
    "sign": SignMoveSerializer,
    "renew": RenewMoveSerializer,
}
