from __future__ import annotations

import contextlib
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import i18n

from accounts import services
from accounts.models import User
from sco_portal.errors import DomainError


def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: Django's `set_language` (cookie, redirect to `next`), and
    for a logged-in person the choice is stored, so their e-mails and their next login follow it."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        # A language the portal does not speak is not stored; Django's view ignores it too
        # (or sets a cookie that LocaleMiddleware then ignores).
        with contextlib.suppress(DomainError):
            services.set_language(person=cast(User, request.user), language=request.POST.get("language", ""))
    return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """What django-axes answers while a username is locked for this address (AXES_LOCKOUT_CALLABLE)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lock_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
