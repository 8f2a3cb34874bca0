from __future__ import annotations

from django.http import HttpRequest

from practices import permissions
from practices.models import Practice


def moderation(request: HttpRequest) -> dict[str, int]:
    """The count of practices waiting on the person, for the header on every page (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"practices_waiting_count": permissions.waiting_on(Practice.objects.visible_to(user), user).count()}
