from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cities.forms import assume_https
from cities.models import Topic
from practices.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENTS_PER_PRACTICE,
    Practice,
    PracticeAttachment,
    PracticeIndicator,
    SustainableDevelopmentGoal,
    language_choices,
    language_choices_for_reader,
    validate_attachment,
)
from sco_portal.text import CleanTextFormMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, each checked by the field's validators (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class PracticeForm(CleanTextFormMixin, forms.ModelForm):
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
    new_attachments = MultipleFileField(
        label=_("Add files"),
        required=False,
        validators=[validate_attachment],
    )
    remove_attachments = forms.ModelMultipleChoiceField(
        label=_("Remove files"),
        queryset=PracticeAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, attachments_allowed: bool = False, **kwargs: Any) -> None:
        """`attachments_allowed`: the person may add and remove files now (the city's officer, on a draft
        or returned practice); otherwise the form has no file fields."""
        super().__init__(*args, **kwargs)
        # Made per form, in the reader's language (a lazy string with % would be English from import time).
        cast(forms.ChoiceField, self.fields["language"]).choices = language_choices_for_reader()
        if "new_attachments" in self.fields:
            self.fields["new_attachments"].help_text = _(
                "PDF documents or PNG, JPEG or WebP images, up to %(size)d MB each, %(count)d per practice."
            ) % {"size": ATTACHMENT_MAX_BYTES // (1024 * 1024), "count": ATTACHMENTS_PER_PRACTICE}
        if not attachments_allowed:
            del self.fields["new_attachments"], self.fields["remove_attachments"]
        elif self.instance.pk is None:
            del self.fields["remove_attachments"]
        else:
            cast(
                forms.ModelMultipleChoiceField, self.fields["remove_attachments"]
            ).queryset = self.instance.attachments.all()

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
        if "new_attachments" in self.fields and cleaned.get("new_attachments"):
            kept = (self.instance.attachments.count() if self.instance.pk else 0) - len(
                cleaned.get("remove_attachments") or []
            )
            if kept + len(cleaned["new_attachments"]) > ATTACHMENTS_PER_PRACTICE:
                self.add_error(
                    "new_attachments",
                    _("A practice carries at most %(count)d files; remove one first.")
                    % {"count": ATTACHMENTS_PER_PRACTICE},
                )
        return cleaned


class IndicatorForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = PracticeIndicator
        fields = ["indicator", "unit", "baseline", "achieved", "year"]


# absolute_max: a posted TOTAL_FORMS of 100,000 builds 30 forms, not 100,000 (and the error names the limit).
IndicatorFormSet = forms.formset_factory(
    IndicatorForm, extra=3, can_delete=True, max_num=30, validate_max=True, absolute_max=30
)


def indicator_rows(formset: Any) -> list[dict[str, Any]]:
    """The filled-in, not deleted rows of a valid formset, as the services take them."""
    return [
        {name: form.cleaned_data[name] for name in IndicatorForm.Meta.fields}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class MoveForm(CleanTextFormMixin, forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, move: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.move = move
        if move == Practice.Move.RETURN:
            self.fields["comment"].required = True
            self.fields["comment"].label = _("What should the author change?")


class TranslationForm(CleanTextFormMixin, forms.Form):
    """A practice's title and summary in one other language; an empty title removes the translation."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary = forms.CharField(
        label=_("Summary"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
