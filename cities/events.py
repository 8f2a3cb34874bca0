"""The e-mails about a city as a whole: the weekly partner suggestions for its officers.

Templates are in templates/cities/email/<name>/; each links to the city's page.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from notifications.events import register

PARTNER_SUGGESTIONS = register(
    "partner_suggestions",
    label=_("New partner suggestions for your city"),
    optional=True,
    templates="cities/email/partner_suggestions",
    subject="city",
)
