"""The e-mails practices raise: a submission to moderate, and the moderator's decision for the author.

Templates are in templates/practices/email/<name>/; each links to the practice.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from notifications.events import register

SUBMITTED = register(
    "practice_submitted",
    label=_("A practice is submitted for moderation"),
    optional=False,
    templates="practices/email/practice_submitted",
    subject="practice",
)
PUBLISHED = register(
    "practice_published",
    label=_("Your practice is published"),
    optional=True,
    templates="practices/email/practice_published",
    subject="practice",
)
RETURNED = register(
    "practice_returned",
    label=_("Your practice is returned for changes"),
    optional=False,
    templates="practices/email/practice_returned",
    subject="practice",
)
