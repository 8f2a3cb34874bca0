from __future__ import annotations

from typing import cast

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from cities.models import City
from partnerships import permissions, services
from partnerships.filters import AgreementFilter
from partnerships.forms import ActivityForm, AgreementForm, MoveForm, TranslationForm
from partnerships.models import Agreement, AgreementQuerySet
from sco_portal import uploads
from sco_portal.content_languages import LANGUAGE_CHOICES, language_name
from sco_portal.errors import ConflictError, DomainError, NotPermittedError
from sco_portal.form_actions import login_then_back_to_the_form
from sco_portal.paging import paged_list_context

AGREEMENTS_PER_PAGE = 30


def _visible(request: HttpRequest) -> AgreementQuerySet:
    return (
        Agreement.objects.visible_to(request.user)
        .with_health()
        .select_related("initiator__country", "partner__country")
        .prefetch_related("topics", "translations")
    )


def _person(request: HttpRequest) -> User:
    # Every view that changes something is login_required.
    return cast(User, request.user)


def agreement_list(request: HttpRequest) -> HttpResponse:
    agreement_filter = AgreementFilter(request.GET, queryset=_visible(request))
    return render(
        request, "partnerships/agreement_list.html", paged_list_context(request, agreement_filter, AGREEMENTS_PER_PAGE)
    )


def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


def _detail_page(request: HttpRequest, pk: int, *, refused: MoveForm | ActivityForm | None = None) -> HttpResponse:
    """The agreement's page; with `refused`, a move's or an activity's form sent back with its errors (a 400), in
    its place and with what was typed: a redirect lost it all, and showed the error at the page's top."""
    # Read here, once, whoever calls: after a refused move, as it stands now.
    agreement = get_object_or_404(_visible(request).prefetch_related("transitions__actor", "activities__author"), pk=pk)
    moves = permissions.allowed_moves(request.user, agreement)

    def move_form(move: str) -> MoveForm:
        return refused if isinstance(refused, MoveForm) and refused.move == move else MoveForm(move=move, prefix=move)

    can_log = permissions.can_log_activity(request.user, agreement) and agreement.status == Agreement.Status.ACTIVE
    return render(
        request,
        "partnerships/agreement_detail.html",
        status=200 if refused is None else 400,
        context={
            "agreement": agreement,
            # Moves that end the agreement come last, as links to a page that asks to confirm them.
            "move_forms": [move_form(move) for move in moves if not Agreement.is_ending(move)],
            "ending_moves": [move for move in moves if Agreement.is_ending(move)],
            "activity_form": (refused if isinstance(refused, ActivityForm) else ActivityForm()) if can_log else None,
            "can_edit": permissions.can_edit(request.user, agreement) and agreement.status == Agreement.Status.DRAFT,
            "shown": agreement.in_language(),
            "original_language_name": language_name(agreement.original_language),
            "translatable_languages": [
                (code, name) for code, name in LANGUAGE_CHOICES if code != agreement.original_language
            ]
            if permissions.can_translate(request.user, agreement)
            else [],
        },
    )


@login_required
def agreement_translate(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """An officer of either city writes the title and summary in `language`."""
    agreement = get_object_or_404(_visible(request), pk=pk)
    if language not in dict(LANGUAGE_CHOICES):
        raise Http404
    if not permissions.can_translate(request.user, agreement):
        raise PermissionDenied(_("Only the officers of the two cities can translate this agreement."))
    existing = next((row for row in agreement.translations.all() if row.language == language), None)
    initial = {"title": existing.title, "summary": existing.summary} if existing else {}
    form = TranslationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_agreement_translation(
                agreement=agreement, language=language, by=_person(request), **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The translation is saved."))
            return redirect(agreement)
    return render(
        request,
        "partnerships/agreement_translation.html",
        {
            "agreement": agreement,
            "form": form,
            "language": language,
            "language_name": language_name(language),
            "original_language_name": language_name(agreement.original_language),
        },
    )


def agreement_memorandum(request: HttpRequest, pk: int) -> FileResponse:
    """The signed memorandum as a download, for whoever sees the agreement; 404 for anyone else."""
    agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
    return uploads.download(agreement.memorandum, filename=f"agreement-{agreement.pk}-memorandum")


@login_required
def agreement_create(request: HttpRequest, partner_pk: int) -> HttpResponse:
    """ "Propose a partnership" from a city page: the officer's city drafts, and may propose at once."""
    partner = get_object_or_404(City.objects.select_related("country"), pk=partner_pk)
    initiator = getattr(request.user, "city", None)
    if initiator is None or not permissions.can_create_for(request.user, initiator):
        raise PermissionDenied(_("Only municipal officers can propose partnerships for their city."))
    try:
        services.check_two_cities(initiator=initiator, partner=partner)
    except DomainError as error:  # the officer's own city: said now, not after the form is filled in
        messages.error(request, error.message)
        return redirect(partner)
    if existing := services.unfinished_agreement(initiator, partner):
        messages.info(request, services.pair_taken_message(existing))
        return redirect(existing)
    # A new agreement is written, by default, in the language its author reads the portal in.
    form = AgreementForm(request.POST or None, initial={"original_language": _person(request).language})
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.create_draft(
                by=_person(request), initiator=initiator, partner=partner, **form.cleaned_data
            )
            if Agreement.Move.PROPOSE in request.POST:
                services.make_move(agreement=agreement, move=Agreement.Move.PROPOSE, by=_person(request))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The agreement is saved."))
            return redirect(agreement)
    return render(
        request, "partnerships/agreement_form.html", {"form": form, "initiator": initiator, "partner": partner}
    )


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(_visible(request), pk=pk)
    if not permissions.can_edit(request.user, agreement):
        raise PermissionDenied(_("Only the initiating city's officers can change this agreement."))
    form = AgreementForm(request.POST or None, instance=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(agreement=agreement, by=_person(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect(agreement)
    return render(
        request,
        "partnerships/agreement_form.html",
        {"form": form, "initiator": agreement.initiator, "partner": agreement.partner, "agreement": agreement},
    )


@login_required
def agreement_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """POST makes the move. GET shows the move's own form: how a move that ends the agreement is confirmed."""
    agreement = get_object_or_404(_visible(request), pk=pk)
    if move not in permissions.MOVE_PERMISSIONS:
        raise Http404(_("Unknown move."))
    if request.method == "GET":
        if move not in permissions.allowed_moves(request.user, agreement):
            messages.error(request, _("This move is not open to you now."))
            return redirect(agreement)
        form = MoveForm(move=move, prefix=move)
        return render(
            request,
            "partnerships/agreement_move.html",
            {"agreement": agreement, "form": form, "ending": Agreement.is_ending(move)},
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if not permissions.can_move(request.user, agreement, move):
        # Before the form: a person who may not make the move learns that, not what the form lacks.
        raise PermissionDenied(_("You may not make this move on this agreement."))
    form = MoveForm(request.POST, request.FILES, move=move, prefix=move)
    if not form.is_valid():
        return _refused_move(request, agreement, form)
    data = {name: value for name, value in form.cleaned_data.items() if name != "confirm" and value not in (None, "")}
    data.setdefault("comment", "")
    try:
        result = services.make_move(agreement=agreement, move=move, by=_person(request), **data)
    except NotPermittedError as error:
        raise PermissionDenied(error.message) from error
    except ConflictError as error:  # the agreement moved on meanwhile: the form was not at fault
        messages.error(request, error.message)
    except DomainError as error:  # a signing date in the future, a termination without its reason...
        form.add_error(None, error.message)
        return _refused_move(request, agreement, form)
    else:
        status = agreement.get_status_display()
        if result.repeated:
            messages.info(request, _("Already done: the agreement is %(status)s.") % {"status": status})
        elif waiting := agreement.waiting_for():
            countries = ", ".join(country.display_name for country in waiting)
            if move == Agreement.Move.APPROVE:
                text = _("Your approval is recorded; waiting for %(countries)s.") % {"countries": countries}
            else:  # the partner city accepted: nobody has approved yet (a walk-through read "Your approval")
                text = _("Done: %(status)s; waiting for the approval of %(countries)s.") % {
                    "status": status,
                    "countries": countries,
                }
            messages.success(request, text)
        elif move == Agreement.Move.RENEW and agreement.renewal_end_date is not None:
            waiting_city = agreement.partner if agreement.renewal_confirmed_by_initiator else agreement.initiator
            messages.success(
                request,
                _("Your city's confirmation of the new term is recorded; waiting for %(city)s.")
                % {"city": waiting_city.display_name},
            )
        else:
            messages.success(request, _("Done: %(status)s.") % {"status": status})
    return redirect(agreement)


def _refused_move(request: HttpRequest, agreement: Agreement, form: MoveForm) -> HttpResponse:
    """A move's form sent back with its errors: on the page that asks to confirm an ending move, else in place on
    the agreement's page."""
    if Agreement.is_ending(form.move):
        return render(
            request,
            "partnerships/agreement_move.html",
            {"agreement": agreement, "form": form, "ending": True},
            status=400,
        )
    return _detail_page(request, agreement.pk, refused=form)


@login_then_back_to_the_form
@require_POST
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(_visible(request), pk=pk)
    if not permissions.can_log_activity(request.user, agreement):
        # Before the form: a person who may not log activity learns that, not what the form lacks.
        raise PermissionDenied(_("Only the officers of the two cities can log activity."))
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, agreement.pk, refused=form)
    try:
        services.log_activity(agreement=agreement, by=_person(request), **form.cleaned_data)
    except NotPermittedError as error:
        raise PermissionDenied(error.message) from error
    except ConflictError as error:  # no longer active: the form was not at fault
        messages.error(request, error.message)
    except DomainError as error:  # a date in the future, or before the signing
        form.add_error("date", error.message)
        return _detail_page(request, agreement.pk, refused=form)
    else:
        messages.success(request, _("The activity is logged."))
    return redirect(agreement)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    waiting = permissions.waiting_on(_visible(request), request.user).order_by("updated_at")
    # Practices show here too, through their own template tag: partnerships does not import practices.
    context = {"agreements": waiting, "practices_installed": apps.is_installed("practices")}
    return render(request, "partnerships/inbox.html", context)
