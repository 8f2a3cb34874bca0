from __future__ import annotations

from typing import Any

from django import template

from cities.models import City
from practices import permissions
from practices.models import Practice

register = template.Library()
CITY_PAGE_PRACTICES = 10


@register.inclusion_tag("practices/_city_practices.html")
def city_practices(city: City) -> dict[str, Any]:
    """A city page's published practices: the city page shows them through the app that owns them."""
    practices = (
        Practice.objects.published()
        .filter(city=city)
        .prefetch_related("topics", "translations")
        .order_by("-published_at", "-id")
    )
    return {"city": city, "practices": practices[:CITY_PAGE_PRACTICES], "count": practices.count()}


@register.inclusion_tag("practices/_inbox.html")
def practices_waiting_on(user: Any) -> dict[str, Any]:
    """The inbox's practices: those waiting on this person, to moderate (coordinators) or to revise
    (officers). The agreements inbox shows them through this tag, as partnerships do not import practices."""
    waiting = (
        permissions.waiting_on(Practice.objects.visible_to(user), user)
        .select_related("city__country")
        .prefetch_related("translations")
        .order_by("updated_at", "id")
    )
    return {"practices": waiting}
