"""API keys for machine clients: hashed and revocable (djangorestframework-api-key), read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework_api_key.models import AbstractAPIKey, APIKey

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

KEYWORD = "Api-Key"


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Accepts `Authorization: Api-Key <key>`; an unknown, revoked or expired key, or any other
    Authorization header, is refused (401)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, AbstractAPIKey] | None:
        if "HTTP_AUTHORIZATION" not in request.META:
            return None  # a visitor, or a person with their session
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        scheme, _separator, key = header.partition(" ")
        if not scheme:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header is empty: send “Authorization: Api-Key <key>”, or none.")
            )
        if scheme != KEYWORD:
            # Not ignored: a client that believes it sends a credential learns it does not count.
            raise exceptions.AuthenticationFailed(
                _("The API takes no %(scheme)s credentials: send “Authorization: Api-Key <key>”, or none.")
                % {"scheme": scheme[:20]}
            )
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(_("The Api-Key header carries no key."))
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist:
            api_key = None
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key is unknown, revoked or expired."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class APIKeyReadOnly(permissions.BasePermission):
    """Public data is readable by anyone; a machine client's key never writes."""

    message = _("API keys are read-only.")

    def has_permission(self, request: Request, view: APIView) -> Any:
        if isinstance(request.auth, AbstractAPIKey):
            return request.method in permissions.SAFE_METHODS
        return True
