"""The practice record's written-out representation says exactly what DRF's generic one would."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.models import User
from practices.models import Practice
from practices.serializers import PracticeDetailSerializer, PracticeSerializer
from tests.factories import days_from_today


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
