"""The login step of a form's action: an address that only answers POST, the target of a button on another page
("Not interested" on a city page, a practice's move, staff's retry of failed mail). Shared by the apps' views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def login_then_back_to_the_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required for a form's action (the view keeps its require_POST). A visitor, whose session ended say, is
    sent to log in and then back to the page the form was on (the request's Referer, when it is this site's), to
    press the button again. login_required sent them back to the action's own address, which the browser then asked
    for with GET: a 405 and an empty page. The POST is not replayed after the login: the person sees the page as it
    is now before acting."""

    @functools.wraps(view)
    def action(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        back = request.headers.get("referer", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            parts = urlsplit(back)
            back = parts.path + (f"?{parts.query}" if parts.query else "")
        else:
            back = resolve_url(settings.LOGIN_REDIRECT_URL)
        return redirect_to_login(back)

    return action
