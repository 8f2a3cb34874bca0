"""Domain errors shared by the apps, the one DRF exception handler that maps them to HTTP,
and the error views that answer JSON under /api/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule of the domain refused the request; the message says which, for the person who sent it."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConflictError(DomainError):
    """The current state does not allow this (a transition from the wrong status, a duplicate)."""

    status_code = status.HTTP_409_CONFLICT


class NotPermittedError(DomainError):
    """The person sees the object but may not make this change."""

    status_code = status.HTTP_403_FORBIDDEN


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)


# Django's own error views (sco_portal/urls.py: handler400 and the others). DRF answers the
# errors raised inside its views; these cover the rest: an unknown URL, an exception DRF does
# not handle, a request Django refuses before any view. Under /api/ a client gets JSON in
# DRF's shape, elsewhere the portal's HTML pages.


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(exception: type[exceptions.APIException], status_code: int) -> JsonResponse:
    return JsonResponse({"detail": str(exception.default_detail)}, status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(exceptions.ParseError, status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(exceptions.PermissionDenied, status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(exceptions.NotFound, status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(exceptions.APIException, status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
