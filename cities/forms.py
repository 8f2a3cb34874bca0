from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from cities.models import City, Topic
from sco_portal.text import CleanTextFormMixin


def assume_https(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """Form fields for model fields, where a web address typed without a scheme means https."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class CityProfileForm(CleanTextFormMixin, forms.ModelForm):
    """What a city's officers keep: never the GeoNames data."""

    needs = forms.ModelMultipleChoiceField(
        label=_("Topics it needs help with"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expertise = forms.ModelMultipleChoiceField(
        label=_("Topics it has expertise in"),
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = City
        fields = [*City.PROFILE_FIELDS, "needs", "expertise"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        formfield_callback = assume_https
