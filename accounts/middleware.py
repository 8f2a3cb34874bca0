from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.models import User


class PersonLanguageMiddleware:
    """A logged-in person reads the pages in their stored language (`User.language`).

    Django's LocaleMiddleware, before this one, picks the language from the cookie or the
    browser. For a logged-in person the stored choice wins: it is the language their e-mails
    are written in, and it follows them to a new browser, past an expired cookie and through
    a language chosen before logging in. Choosing a language in the header stores it
    (accounts.views.set_language), so the cookie and the stored choice agree from then on.
    Goes after AuthenticationMiddleware; LocaleMiddleware's response half then sends the
    language chosen here in `Content-Language`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            language = cast(User, request.user).language
            if language != getattr(request, "LANGUAGE_CODE", None):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
