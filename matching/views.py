from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cities.models import City
from matching import services
from matching.models import RecomputeRun, Suggestion
from sco_portal.errors import DomainError
from sco_portal.form_actions import login_then_back_to_the_form

# A message with this tag is shown by the part of the page it concerns (here the suggestions, where the redirect
# lands), not at the top of the page, out of view (templates/base.html leaves it out).
IN_SECTION = "in-section"


def _for_staff(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The visitor is sent to the portal's login; a signed-in person who is not staff is told why not (the admin's
    decorator sent officers to the admin's login page instead, as if they had not signed in)."""

    @login_required
    @functools.wraps(view)
    def staff_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied(_("Only staff can start or stop the full recompute of suggestions."))
        return view(request, *args, **kwargs)

    return staff_view


def _pair(request: HttpRequest, pk: int, candidate_pk: int) -> tuple[City, City]:
    city = get_object_or_404(City, pk=pk)
    candidate = get_object_or_404(City, pk=candidate_pk)
    if not services.can_act_for(request.user, city):
        raise PermissionDenied(
            _("Only the officers of %(city)s can do this for its suggestions.") % {"city": city.display_name}
        )
    return city, candidate


def _back_to_suggestions(request: HttpRequest, city: City) -> HttpResponse:
    """The suggestions the button was pressed in: of other countries, or of the city's own (?same_country=1)."""
    own_country = "?same_country=1" if request.POST.get("same_country") == "1" else ""
    return redirect(city.get_absolute_url() + own_country + "#suggestions")


@login_then_back_to_the_form
@require_POST
def dismiss(request: HttpRequest, pk: int, candidate_pk: int) -> HttpResponse:
    city, candidate = _pair(request, pk, candidate_pk)
    try:
        services.dismiss_candidate(city=city, candidate=candidate, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message, extra_tags=IN_SECTION)
    else:
        messages.success(
            request,
            _("%(candidate)s will not be suggested to %(city)s again. You can undo this below.")
            % {"candidate": candidate.display_name, "city": city.display_name},
            extra_tags=IN_SECTION,
        )
    return _back_to_suggestions(request, city)


@login_then_back_to_the_form
@require_POST
def undo(request: HttpRequest, pk: int, candidate_pk: int) -> HttpResponse:
    city, candidate = _pair(request, pk, candidate_pk)
    services.undo_dismissal(city=city, candidate=candidate, by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(candidate)s may be suggested again.") % {"candidate": candidate.display_name},
        extra_tags=IN_SECTION,
    )
    return _back_to_suggestions(request, city)


@_for_staff
def recompute(request: HttpRequest) -> HttpResponse:
    """Staff start a full recompute and watch its progress (the page refreshes itself while it runs)."""
    if request.method == "POST":
        try:
            requested, started = services.request_full_recompute(by=request.user)  # type: ignore[arg-type]
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if not started:
                messages.info(
                    request,
                    _("A full recompute requested at %(when)s is still under way: its progress is below.")
                    % {"when": timezone.localtime(requested.created_at).strftime("%H:%M")},
                )
        return redirect("matching:recompute")
    # The run under way if any (the one the stop button stops), else the latest. One left open past
    # STALE_RUN_AFTER will not finish: the page neither waits for it nor holds the button back.
    under_way = services.run_under_way()
    run = under_way or RecomputeRun.objects.first()
    in_progress = under_way is not None
    # Beside the rows the run wrote, those stored now: a city recomputed on its own during the run kept its own.
    stored = Suggestion.objects.count() if run is not None and run.status == RecomputeRun.Status.DONE else None
    return render(request, "matching/recompute.html", {"run": run, "in_progress": in_progress, "stored": stored})


@login_then_back_to_the_form
@_for_staff
@require_POST
def stop(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(RecomputeRun, pk=run_id)
    if services.stop_run(run_id=run.pk, by=request.user):  # type: ignore[arg-type]
        messages.success(request, _("The recompute was stopped: every city keeps the suggestions it had."))
    else:
        messages.info(request, _("That recompute had already finished: nothing was stopped."))
    return redirect("matching:recompute")
