from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.events import optional_events
from notifications.models import Preference


class PreferenceForm(forms.Form):
    """How a person gets their e-mail; each optional kind is a box to tick for 'send me this'."""

    delivery = forms.ChoiceField(
        label=_("How to send your e-mail"), choices=Preference.Delivery.choices, widget=forms.RadioSelect
    )
    events = forms.MultipleChoiceField(
        label=_("Optional e-mails you receive"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Read when the form is made: the apps register their events at start-up.
        self.fields["events"].choices = [(event.name, event.label) for event in optional_events()]  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, preference: Preference | None) -> dict[str, object]:
        if preference is None:
            return {
                "delivery": Preference.Delivery.IMMEDIATE,
                "events": [event.name for event in optional_events()],
            }
        return {
            "delivery": preference.delivery,
            "events": [event.name for event in optional_events() if event.name not in preference.muted_events],
        }

    def muted_events(self) -> list[str]:
        chosen = set(self.cleaned_data["events"])
        return [event.name for event in optional_events() if event.name not in chosen]
