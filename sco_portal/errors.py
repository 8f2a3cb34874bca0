"""Domain errors shared by the apps, and the one DRF exception handler that maps them to HTTP."""

from __future__ import annotations

from typing import Any

from rest_framework import status
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
