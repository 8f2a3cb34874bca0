from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from overview import services


def map_text() -> dict[str, str]:
    """The words the map's script writes, in the reader's language."""
    return {
        "city": _("City"),
        "agreement": _("Open the agreement"),
        "open_city": _("Open the city"),
        "active": _("active"),
        "proposed": _("in progress"),
        "dormant": _("dormant"),
        # "%(cities)s" and "%(lines)s" are replaced by the script.
        "summary": _("%(cities)s cities and %(lines)s partnerships shown."),
    }


def map_page(request: HttpRequest) -> HttpResponse:
    """The directory's cities and the partnerships as lines, on country outlines shipped with the portal."""
    return render(request, "overview/map.html", {"map_text": map_text()})


def map_data(request: HttpRequest) -> JsonResponse:
    data = services.map_data(user=request.user, language=get_language())
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
    # The names follow the reader's language and the lines what they may see.
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    patch_cache_control(response, private=True, max_age=300)
    return response
