"""The e-mails about a person's own account: the password reset link.

Templates are in templates/accounts/email/<name>/.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from notifications.events import register

PASSWORD_RESET = register(
    "password_reset",
    label=_("A link to set a new password"),
    optional=False,
    templates="accounts/email/password_reset",
    immediate=True,
)
