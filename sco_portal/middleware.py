"""Refuses a request whose body is too large before anything reads it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Answers 413 to a body larger than its kind may be, judged by its `Content-Length`.

    An upload (multipart) may carry a memorandum or an attachment of 10 MB plus the form
    around it (REQUEST_MAX_UPLOAD_BYTES); any other body (JSON, a form) at most
    DATA_UPLOAD_MAX_MEMORY_SIZE. Django applies that setting only to bodies it reads itself,
    and DRF's JSON parser reads the stream directly: without this check a client could make a
    worker read and parse a JSON body of any size. The per-file limits (the memorandum's
    10 MB) stay where they are, in the validators, with their own messages.

    First in the chain after SecurityMiddleware: the CSRF check reads a form's body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Before LocaleMiddleware: the refusal picks the reader's language (cookie, browser) itself.
        with translation.override(translation.get_language_from_request(request)):
            refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._refuse(request, 400, _("The Content-Length header is not a number."))
        if length < 0:
            return self._refuse(request, 400, _("The Content-Length header is not a number."))
        is_upload = request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")
        limit = settings.REQUEST_MAX_UPLOAD_BYTES if is_upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            message = _(
                "The request body is %(size)s bytes; at most %(limit)s bytes are accepted for this kind of request."
            ) % {"size": length, "limit": limit}
            return self._refuse(request, 413, message)
        return None

    @staticmethod
    def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
        # The body is not read here. No "Connection: close": an application may not send a hop-by-hop header
        # (PEP 3333), and runserver's wsgiref turned it into a 500 for the upload it refused. The server deals
        # with the unread bytes: gunicorn's sync workers close every connection, runserver drains them.
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message}, status=status)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class NumberOutOfRangeMiddleware:
    """Answers 400 where a number from the request reached SQLite beyond its 64-bit INTEGER.

    The forms and filters that take ids bound them (sco_portal.filters.IdField), but every model choice of
    every form is not one of those: Django's ModelChoiceField passes a pasted 99999999999999999999 to the
    query, where SQLite's driver raises OverflowError (PostgreSQL compares it and finds nothing). That
    error can only come from the request's input, so it is the client's mistake, said as such.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (isinstance(exception, OverflowError) and "SQLite INTEGER" in str(exception)):
            return None
        message = _("A number in the request is too large: ids are whole numbers from 1 to 9223372036854775807.")
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


class PermissionsPolicyMiddleware:
    """Sends `Permissions-Policy` (settings.PERMISSIONS_POLICY) with every answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
