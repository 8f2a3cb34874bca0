from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cities.forms import assume_https
from cities.models import Topic
from practices.models import Practice, PracticeIndicator, SustainableDevelopmentGoal, language_choices


class PracticeForm(forms.ModelForm):
    """What an officer writes; the city is theirs, the indicators come in the formset below."""

    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(), widget=forms.CheckboxSelectMultiple, label=_("Topics")
    )
    sdgs = forms.ModelMultipleChoiceField(
        queryset=SustainableDevelopmentGoal.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Related SDGs"),
    )
    language = forms.ChoiceField(label=_("Written in"), choices=language_choices, initial="en")

    class Meta:
        model = Practice
        formfield_callback = assume_https
        fields = [
            "title",
            "summary",
            "topics",
            "problem",
            "solution",
            "cost",
            "currency",
            "funding",
            "start_year",
            "end_year",
            "challenges",
            "success_factors",
            "transferability",
            "contact_name",
            "contact_role",
            "contact_email",
            "sdgs",
            "language",
            "source_url",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 4})
            for name in ("summary", "problem", "solution", "challenges", "success_factors", "transferability")
        }

    def clean_currency(self) -> str:
        return str(self.cleaned_data.get("currency") or "").upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_year"), cleaned.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("The end year cannot be before the start year."))
        if cleaned.get("cost") is not None and not cleaned.get("currency"):
            self.add_error("currency", _("Give the currency of the cost."))
        return cleaned


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = PracticeIndicator
        fields = ["indicator", "unit", "baseline", "achieved", "year"]


IndicatorFormSet = forms.formset_factory(IndicatorForm, extra=3, can_delete=True, max_num=30, validate_max=True)


def indicator_rows(formset: Any) -> list[dict[str, Any]]:
    """The filled-in, not deleted rows of a valid formset, as the services take them."""
    return [
        {name: form.cleaned_data[name] for name in IndicatorForm.Meta.fields}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class MoveForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, move: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.move = move
        if move == Practice.Move.RETURN:
            self.fields["comment"].required = True
            self.fields["comment"].label = _("What should the author change?")
