"""Content written in one language and translated into others: an agreement's or a practice's title and summary.

A record keeps the language it was written in (`original_language`) and has
translation rows, one per other language, each a subclass of `ContentTranslation`
with a foreign key named `original` and `related_name="translations"`. Pages and
the API show `record.in_language(reader_language)`, which says whether it is
the original. Partnerships and practices use it (a practice's `original_language`
is a property over its ISO 639-1 `language`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.views import APIView

LANGUAGE_CHOICES = settings.LANGUAGES


def portal_language(code: str | None) -> str | None:
    """`code` ("ru-RU", "zh-CN", "zh-hans", "en") as one of the portal's languages, or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


# An API's `?lang=`, documented on the operations that take it (their texts: titles and summaries where translated,
# the reasons of a partner suggestion).
READER_LANGUAGE = OpenApiParameter(
    "lang",
    location=OpenApiParameter.QUERY,
    required=False,
    enum=["en", "ru", "zh-hans"],
    description="The language to show the answer's texts in (titles and summaries where translated, reasons); "
    "without it, the signed-in person's language or else the `Accept-Language` header decides.",
)


class ReaderLanguageView(APIView):
    """An API view whose `?lang=` outranks the language LocaleMiddleware chose (the person's, or Accept-Language):
    the answer's Content-Language then names the language used. Agreements, practices and partner suggestions."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if language := portal_language(request.query_params.get("lang")):
            translation.activate(language)
            request._request.LANGUAGE_CODE = language


def language_name(code: str) -> str:
    """The language's name in the language being read ("русский" on a Russian page is "Russian" here)."""
    return str(dict(LANGUAGE_CHOICES).get(code, code))


class ContentTranslation(models.Model):
    """One translation of a record's title and summary. A subclass adds the foreign key, e.g.

        original = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="translations")

    and a `UniqueConstraint(fields=["original", "language"])` in its Meta.
    """

    language = models.CharField(_("language"), max_length=10, choices=LANGUAGE_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    translated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.language}: {self.title}"


@dataclass(frozen=True)
class ShownText:
    """What a reader sees of a record: its title and summary, in `language`; `is_original` when not a translation."""

    title: str
    summary: str
    language: str
    original_language: str

    @property
    def is_original(self) -> bool:
        return self.language == self.original_language


class HasTranslations:
    """For a model with `title`, `summary`, `original_language` and the `translations` of a ContentTranslation.

    Prefetch `translations` on lists: `in_language` reads them with `.all()`.
    """

    title: str
    summary: str
    original_language: str
    translations: Any

    def in_language(self, language: str | None = None) -> ShownText:
        """The text in `language` (the active one by default) where there is one, else the original."""
        wanted = portal_language(language or translation.get_language())
        if wanted and wanted != self.original_language:
            for row in self.translations.all():
                if row.language == wanted:
                    return ShownText(row.title, row.summary, row.language, self.original_language)
        return ShownText(self.title, self.summary, self.original_language, self.original_language)

    @property
    def shown(self) -> ShownText:
        """`in_language()` for templates, in the language of the page."""
        return self.in_language()
