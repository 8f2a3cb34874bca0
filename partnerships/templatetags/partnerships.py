from __future__ import annotations

from typing import Any

from django import template

from cities.models import City
from partnerships import permissions, services
from partnerships.models import Agreement

register = template.Library()


@register.inclusion_tag("partnerships/_city_partners.html", takes_context=True)
def city_partners(context: dict[str, Any], city: City) -> dict[str, Any]:
    """A city page's list of partners: the city page shows them through the app that owns them."""
    user = context["request"].user
    agreements = (
        Agreement.objects.visible_to(user)
        .involving(city)
        .unfinished()
        .with_health()
        .select_related("initiator__country", "partner__country")
        .order_by("status", "title")
    )
    rows = [
        (agreement, agreement.partner if agreement.initiator_id == city.pk else agreement.initiator)
        for agreement in agreements
    ]
    # An officer of another city may propose a partnership with this one, unless the two
    # cities have an unfinished agreement already: then the page links to that one.
    can_propose = permissions.can_propose_to(user, city)
    pending = services.unfinished_agreement(user.city, city) if can_propose else None
    partner_map = {
        "city": [city.pk, city.display_name, city.latitude, city.longitude],
        "partners": [
            [other.pk, other.display_name, other.latitude, other.longitude, agreement.line_style, agreement.pk]
            for agreement, other in rows
            if agreement.status not in Agreement.FINISHED
        ],
    }
    return {
        "city": city,
        "rows": rows,
        "can_propose": can_propose and pending is None,
        "pending": pending,
        "partner_map": partner_map,
    }
