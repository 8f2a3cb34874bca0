"""Form widgets that more than one app's filters use."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AnyYesNo(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads "any" (the stock one says "unknown")."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
