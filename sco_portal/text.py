"""One cleaner for the free text people type (titles, names, descriptions, comments).

Bidirectional control characters (U+202A–U+202E embeddings and overrides, U+2066–U+2069
isolates) make text display in an order other than the one it is stored in: a title can show
"agreement.pdf" while reading "fdp.tnemeerga" to the machine, or pull the rest of a page's
line around with it ("Trojan Source"). No city name or description needs them, since the
Unicode bidi algorithm orders Arabic, Persian or Hebrew on its own, so they are removed.

Forms mix in CleanTextFormMixin and serializers CleanTextSerializerMixin; both strip every
text value they take.
"""

from __future__ import annotations

import re
from typing import Any

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(value: str) -> str:
    return BIDI_CONTROLS.sub("", value)


def clean_text_values(values: dict[str, Any]) -> dict[str, Any]:
    """The same mapping with bidi controls stripped from every string value."""
    return {name: strip_bidi_controls(value) if isinstance(value, str) else value for name, value in values.items()}


class CleanTextFormMixin:
    """A form whose text fields come out of `clean()` without bidi controls (before the model
    instance is built from them)."""

    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        self.cleaned_data = clean_text_values(cleaned if cleaned is not None else self.cleaned_data)
        return self.cleaned_data


class CleanTextSerializerMixin:
    """A serializer whose validated text values carry no bidi controls."""

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)  # type: ignore[misc]
        return clean_text_values(dict(values))
