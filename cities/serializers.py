from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cities.models import City, Country, CountryStatus, Topic


class CountryStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = CountryStatus
        fields = ["status", "since", "note"]


class CountrySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="SCO status in force today.")
    status_history = CountryStatusSerializer(many=True, read_only=True)

    class Meta:
        model = Country
        fields = ["code", "name", "name_ru", "name_zh", "status", "status_history"]

    @extend_schema_field(serializers.ChoiceField(choices=CountryStatus.Status.choices, allow_null=True))
    def get_status(self, country: Country) -> str | None:
        current = country.current_status
        return current.status if current else None


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "slug", "name", "name_ru", "name_zh"]


class CitySerializer(serializers.ModelSerializer):
    country: serializers.SlugRelatedField[Country] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = City
        fields = [
            "id",
            "geonameid",
            "name",
            "ascii_name",
            "name_ru",
            "name_ru_source",
            "name_zh",
            "name_zh_source",
            "country",
            "population",
            "latitude",
            "longitude",
            "timezone",
            "is_capital",
        ]
        extra_kwargs = {
            "name_ru": {
                "help_text": "Russian name; empty when no source gives one: show `name`, as GeoNames writes it."
            },
            "name_zh": {
                "help_text": "Chinese name; empty when no source gives one: show `name`, as GeoNames writes it."
            },
            "name_ru_source": {"help_text": "Where the Russian name comes from; empty when there is none."},
            "name_zh_source": {"help_text": "Where the Chinese name comes from; empty when there is none."},
        }


class CityDetailSerializer(CitySerializer):
    needs: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    expertise: serializers.SlugRelatedField[Topic] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )

    class Meta(CitySerializer.Meta):
        fields = [
            *CitySerializer.Meta.fields,
            "description",
            "website",
            "contact_office",
            "contact_email",
            "contact_phone",
            "needs",
            "expertise",
            "profile_updated_at",
        ]
