from __future__ import annotations

from typing import Any

from django.contrib.auth import forms as auth_forms

from accounts import services
from sco_portal.text import CleanTextFormMixin


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, whose e-mail goes through the outbox (retried, never lost) instead of
    straight to the SMTP server in the request."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        services.send_password_reset(person=context["user"], uid=context["uid"], token=context["token"])


class UserChangeForm(CleanTextFormMixin, auth_forms.UserChangeForm):
    """The admin's person form: names are shown to others, so they carry no bidi controls."""
