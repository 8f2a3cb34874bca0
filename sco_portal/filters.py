"""Filters shared by the apps' FilterSets (cities and partnerships)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

# Ids are 64-bit signed integers (BigAutoField): PostgreSQL's bigint and SQLite's INTEGER.
LARGEST_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """A database id: a whole number from 1 to the largest a 64-bit column holds.

    A larger number is refused here, as a form error (a 400 in the API): passed on to the
    query it crashes SQLite (OverflowError) and is a DataError on PostgreSQL wherever
    Django does not catch it first.
    """

    default_error_messages = {
        "invalid": _("Enter an id: a whole number."),
        "min_value": _("There is no such id: ids are whole numbers from 1 to 9223372036854775807."),
        "max_value": _("There is no such id: ids are whole numbers from 1 to 9223372036854775807."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=LARGEST_ID, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filter by the id of a row (a city, an agreement): out-of-range numbers are a field error, not a 500."""

    field_class = IdField

    def get_max_validator(self) -> None:
        return None  # IdField has its own, with a message that says what an id is.


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date and time, given to the database in UTC.

    ISO 8601 allows any UTC offset, PostgreSQL only those within ±15:59: passed on as
    given, "…-18:32" is a DataError. In UTC it is the same instant, and a time too early
    to have one is a form error (a 400 naming the parameter).
    """

    default_error_messages = {"out_of_range": _("Enter a date and time from the year 1 on.")}

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as error:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from error


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """Filter by an ISO 8601 date and time with any offset (UtcDateTimeField)."""

    field_class = UtcDateTimeField
