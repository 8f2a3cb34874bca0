"""The practice record's written-out representation says exactly what DRF's generic one would."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.models import User
from practices.models import Practice
from practices.serializers import (
    ROW_COLUMNS,
    PracticeDetailSerializer,
    PracticeRowSerializer,
    PracticeSerializer,
    in_reader_language,
    with_relations,
)
from practices.services import save_practice_translation
from tests.factories import TopicFactory, days_from_today


def test_the_fast_representation_equals_the_generic_one(
    practice_in: Callable[..., Practice], coordinator: User
) -> None:
    full = practice_in(
        "published",
        cost=Decimal("1234567.5"),
        currency="KZT",
        start_year=days_from_today(0).year - 2,
        contact_email="office@example.org",
        source_url="https://example.org/programme",
    )
    full.sdgs.set([3, 11])
    full.indicators.create(indicator="Riders", unit="people", baseline=None, achieved=Decimal("2.5"), year=2024)
    full.indicators.create(indicator="Time", unit="min", baseline=Decimal("55"), achieved=Decimal("32"), year=2024)
    full.transitions.create(move="publish", from_status="submitted", to_status="published", actor=coordinator)
    bare = practice_in("draft")
    request = APIRequestFactory().get("/api/v1/practices/")
    request.user = coordinator

    for practice in (Practice.objects.get(pk=full.pk), Practice.objects.get(pk=bare.pk)):
        for serializer_class in (PracticeSerializer, PracticeDetailSerializer):
            serializer = serializer_class(practice, context={"request": request})
            generic = serializers.ModelSerializer.to_representation(serializer, practice)
            assert serializer.data == generic


def test_the_lists_representation_from_rows_equals_the_generic_one(
    practice_in: Callable[..., Practice], coordinator: User, officer: User
) -> None:
    """The list writes records from values() rows; each must be what DRF's generic serializer makes
    of the instance, for people with moves to make (the allowed moves come from the row) and visitors."""
    full = practice_in(
        "submitted",
        cost=Decimal("99.5"),
        currency="KZT",
        start_year=2020,
        end_year=2024,
        source_url="https://example.org/programme",
    )
    # Topics in their own order (position, then name), not the order they were added.
    full.topics.set([TopicFactory.create(name="Zoning", position=0), TopicFactory.create(name="Air", position=1)])
    full.sdgs.set([11, 3])
    full.indicators.create(indicator="Second", unit="%", achieved=Decimal("1"), year=2024, position=1)
    full.indicators.create(indicator="First", unit="%", baseline=Decimal("0.1234"), achieved=2, year=2024)
    published = practice_in("published", language="zh")
    save_practice_translation(practice=published, language="ru", title="Перевод", summary="Кратко.", by=officer)
    bare = practice_in("draft")
    ids = [full.pk, published.pk, bare.pk]
    instances = list(Practice.objects.filter(pk__in=ids).prefetch_related("translations").order_by("id"))

    for language in ("en", "ru", "zh-hans"):
        with translation.override(language):
            rows = with_relations(
                list(
                    in_reader_language(Practice.objects.filter(pk__in=ids))
                    .order_by("id")
                    .values(*ROW_COLUMNS, "shown_title", "shown_summary")
                )
            )
            for person in (coordinator, officer, None):
                request = APIRequestFactory().get("/api/v1/practices/")
                request.user = person or AnonymousUser()
                context = {"request": request}
                generic = [
                    serializers.ModelSerializer.to_representation(
                        PracticeSerializer(practice, context=context), practice
                    )
                    for practice in instances
                ]
                assert PracticeRowSerializer(rows, many=True, context=context).data == generic
            assert (generic[1]["title"] == "Перевод") is (language == "ru")
            assert generic[1]["shown_language"] == ("ru" if language == "ru" else "zh-hans")
    assert generic[0]["topics"][:1] == [full.topics.get(name="Zoning").slug]
