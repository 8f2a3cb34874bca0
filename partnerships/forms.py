from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from cities.models import Topic
from partnerships.models import Agreement, AgreementActivity, validate_memorandum
from sco_portal.errors import DomainError
from sco_portal.text import CleanTextFormMixin

# The longest texts people may write. The model keeps `summary` and `comment` as unbounded
# TextFields, so these forms and the API's serializers (which import the constants) set the
# limit; titles (200) and activity descriptions (300) have theirs in the model.
SUMMARY_MAX_LENGTH = 5000
COMMENT_MAX_LENGTH = 2000


class DateInput(forms.DateInput):
    input_type = "date"


class AgreementForm(CleanTextFormMixin, forms.ModelForm):
    """The terms an initiating city's officer drafts; the two cities are fixed by the page."""

    # The model field's form field (its label, not required), with the length limit the model lacks.
    summary = cast(models.TextField, Agreement._meta.get_field("summary")).formfield(
        max_length=SUMMARY_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(), required=False, widget=forms.CheckboxSelectMultiple, label=_("Topics")
    )

    class Meta:
        model = Agreement
        fields = ["kind", "title", "summary", "original_language", "topics", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out, the language is the one the form offered (the author's), as for any field with a default.
        self.fields["original_language"].required = False

    def clean_original_language(self) -> str:
        return str(
            self.cleaned_data.get("original_language")
            or self.initial.get("original_language")
            or self.instance.original_language
        )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        try:
            Agreement.check_term(cleaned.get("start_date"), cleaned.get("end_date"))
        except DomainError as error:
            self.add_error("end_date" if cleaned.get("end_date") else "start_date", error.message)
        return cleaned


class TranslationForm(CleanTextFormMixin, forms.Form):
    """An agreement's title and summary in one other language; an empty title removes the translation."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary = forms.CharField(
        label=_("Summary"), max_length=SUMMARY_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )


class MoveForm(CleanTextFormMixin, forms.Form):
    """A move on an agreement; signing and renewing ask for more than a comment."""

    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DateInput())
    memorandum = forms.FileField(label=_("Signed memorandum (PDF)"), required=False, validators=[validate_memorandum])
    end_date = forms.DateField(label=_("New end of term"), required=False, widget=DateInput())
    country = forms.CharField(required=False, max_length=2, widget=forms.HiddenInput())
    confirm = forms.BooleanField(label=_("Yes, end this agreement. I understand this cannot be undone."))

    def __init__(self, *args: object, move: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.move = move
        if move == Agreement.Move.SIGN:
            self.fields["signed_on"].required = self.fields["memorandum"].required = True
        if move == Agreement.Move.RENEW:
            self.fields["end_date"].required = True
        if Agreement.is_ending(move):
            # Ending an agreement is confirmed, and a termination says why (the others may).
            self.fields["comment"].label = _("Reason")
            self.fields["comment"].required = move == Agreement.Move.TERMINATE
        else:
            del self.fields["confirm"]
        for name in ("signed_on", "memorandum", "end_date"):
            if not self.fields[name].required:
                del self.fields[name]


class ActivityForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = AgreementActivity
        fields = ["date", "kind", "description"]
        widgets = {"date": DateInput()}
        # The activity page shows errors without their field's label: this one names it.
        error_messages = {
            "description": {
                "max_length": _("“What happened” may be at most %(limit_value)d characters (it has %(show_value)d).")
            }
        }
