"""Paging a filtered list page (the city directory, the agreements): shared by two apps."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paged_list_context(
    request: HttpRequest, filterset: Any, per_page: int, paginator_class: type[Paginator[Any]] = Paginator
) -> dict[str, Any]:
    """The template context of a filtered list: the filter, the requested page, the query without `page`."""
    page: Page[Any] = paginator_class(filterset.qs, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"filter": filterset, "page": page, "query": query.urlencode()}
