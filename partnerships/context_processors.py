from __future__ import annotations

from django.http import HttpRequest

from partnerships import permissions
from partnerships.models import Agreement


def inbox(request: HttpRequest) -> dict[str, int]:
    """The count of what waits on the person, for the header on every page (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_count": permissions.waiting_on(Agreement.objects.visible_to(user), user).count()}
