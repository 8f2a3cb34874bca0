"""How often the API answers one visitor address, one person and one API key (DRF throttles).

Each class counts one kind of client and lets the others pass, so every request is counted
once for who it comes from: a machine client by its key's id (many clients may share an
address behind a ministry's proxy), a logged-in person by their account, anyone else by
their address. Search (`q`/`search`) and exports count a second time against a tighter rate:
they cost the database far more than a page of a list.

The rates are read from settings.API_THROTTLE_RATES on every request (not frozen into the
class when DRF is imported), so an operator's environment and a test's `settings` fixture
both take effect. Over the rate the answer is 429 with `Retry-After` (DRF's Throttled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework_api_key.models import AbstractAPIKey

if TYPE_CHECKING:
    from rest_framework.views import APIView

# Query parameters that make a request a search.
SEARCH_PARAMETERS = ("q", "search")
# `?format=` values, and the view attribute `throttle_scope = "export"`, that make it an export.
EXPORT_FORMATS = ("csv",)


def client_identity(request: Request) -> tuple[str, str]:
    """("key", id), ("person", pk) or ("address", ident): who the request counts against."""
    if isinstance(request.auth, AbstractAPIKey):
        return "key", str(request.auth.pk)
    if request.user and request.user.is_authenticated:
        return "person", str(request.user.pk)
    # DRF's ident: REMOTE_ADDR, or X-Forwarded-For as far as NUM_PROXIES trusts it.
    return "address", BaseThrottle().get_ident(request)


class _SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is `settings.API_THROTTLE_RATES[scope]` (None: no limit)."""

    def __init__(self) -> None:
        # SimpleRateThrottle reads its rate here; ours is read per request from settings.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope or "")

    # Which kind of client (client_identity) this throttle counts; "" for all of them.
    kind = ""

    def counts(self, request: Request, view: APIView) -> bool:
        kind, _ident = client_identity(request)
        return kind == self.kind

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not self.counts(request, view):
            return None
        kind, ident = client_identity(request)
        return self.cache_format % {"scope": self.scope, "ident": f"{kind}:{ident}"}


class VisitorRateThrottle(_SettingsRateThrottle):
    """Anyone without a session or a key, by address."""

    scope = "visitor"
    kind = "address"


class PersonRateThrottle(_SettingsRateThrottle):
    """A logged-in person, by account, whichever address they come from."""

    scope = "person"
    kind = "person"


class APIKeyRateThrottle(_SettingsRateThrottle):
    """A machine client, by the id of its key (never the key itself, which is a secret)."""

    scope = "api_key"
    kind = "key"


class SearchRateThrottle(_SettingsRateThrottle):
    """Searches, per client of any kind, against their own tighter rate."""

    scope = "search"

    def counts(self, request: Request, view: APIView) -> bool:
        return any(request.query_params.get(name) for name in SEARCH_PARAMETERS)


class ExportRateThrottle(_SettingsRateThrottle):
    """Exports (a view or action with `throttle_scope = "export"`, or `?format=csv`), per client."""

    scope = "export"

    def counts(self, request: Request, view: APIView) -> bool:
        return getattr(view, "throttle_scope", None) == "export" or request.query_params.get("format") in EXPORT_FORMATS
