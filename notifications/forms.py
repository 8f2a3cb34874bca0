from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import OPTIONAL_EVENTS, Preference


class PreferenceForm(forms.Form):
    """How a person gets their e-mail; each optional kind is a box to tick for 'send me this'."""

    delivery = forms.ChoiceField(
        label=_("How to send your e-mail"), choices=Preference.Delivery.choices, widget=forms.RadioSelect
    )
    events = forms.MultipleChoiceField(
        label=_("Optional e-mails you receive"),
        choices=[(event.value, event.label) for event in OPTIONAL_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    @classmethod
    def initial_for(cls, preference: Preference | None) -> dict[str, object]:
        if preference is None:
            return {"delivery": Preference.Delivery.IMMEDIATE, "events": [event.value for event in OPTIONAL_EVENTS]}
        return {
            "delivery": preference.delivery,
            "events": [event.value for event in OPTIONAL_EVENTS if event not in preference.muted_events],
        }

    def muted_events(self) -> list[str]:
        chosen = set(self.cleaned_data["events"])
        return [event.value for event in OPTIONAL_EVENTS if event.value not in chosen]
