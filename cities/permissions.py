"""Who may do what with countries, cities and topics. Cities are public; their profiles are not."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from cities.models import City


def can_edit_city_profile(user: User | AnonymousUser, city: City) -> bool:
    """Only the city's own municipal officers keep its profile."""
    return isinstance(user, User) and user.is_active and user.is_officer and user.city_id == city.pk
