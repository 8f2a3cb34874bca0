from __future__ import annotations

from typing import Any

from django import template

from cities.models import City
from matching import reasons, services
from matching.models import Dismissal, Suggestion
from matching.views import IN_SECTION

register = template.Library()


@register.inclusion_tag("matching/_city_suggestions.html", takes_context=True)
def suggested_partners(context: dict[str, Any], city: City) -> dict[str, Any]:
    """A city page's suggested partners with their reasons; its officers may propose or dismiss."""
    request = context["request"]
    user = request.user
    # ?same_country=1: the best cities of its own country instead, computed now (the stored suggestions leave it out).
    own_country = request.GET.get("same_country") in ("1", "true")
    if own_country:
        suggestions = services.suggestions_in_own_country(city=city)
    else:
        suggestions = list(
            Suggestion.objects.filter(city=city).select_related("city__country", "candidate__country").order_by("rank")
        )
    names = reasons.topic_names()
    rows = [(suggestion, reasons.sentences(suggestion, names)) for suggestion in suggestions]
    acts = services.can_act_for(user, city)
    dismissed = (
        list(Dismissal.objects.filter(city=city).select_related("candidate__country").order_by("-created_at"))
        if acts
        else []
    )
    # What the officer just did here (views.IN_SECTION), said beside the list rather than at the page's top.
    notes = [message for message in context.get("messages", ()) if IN_SECTION in message.tags.split()]
    return {
        "city": city,
        "rows": rows,
        "can_act": acts,
        "dismissed": dismissed,
        "notes": notes,
        "own_country": own_country,
        "request": request,
    }
