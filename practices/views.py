from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from practices import exports, permissions, services
from practices.filters import PracticeFilter
from practices.forms import IndicatorFormSet, MoveForm, PracticeForm, TranslationForm, indicator_rows
from practices.models import LibraryExport, Practice, PracticeAttachment, PracticeQuerySet, language_choices_for_reader
from sco_portal import uploads
from sco_portal.content_languages import LANGUAGE_CHOICES, language_name
from sco_portal.errors import DomainError, NotPermittedError
from sco_portal.form_actions import login_then_back_to_the_form
from sco_portal.paging import paged_list_context

PRACTICES_PER_PAGE = 20
RELATED_PRACTICES = 5


def _visible(request: HttpRequest) -> PracticeQuerySet:
    return (
        Practice.objects.visible_to(request.user)
        .select_related("city__country")
        .prefetch_related("topics", "translations")
    )


def _person(request: HttpRequest) -> User:
    # Every view that changes something is login_required.
    return cast(User, request.user)


def practice_list(request: HttpRequest) -> HttpResponse:
    """The library: published practices (and those the person may see), filtered; ranked when searched."""
    practice_filter = PracticeFilter(request.GET, queryset=_visible(request).prefetch_related("indicators"))
    context = paged_list_context(request, practice_filter, PRACTICES_PER_PAGE)
    context["can_write"] = permissions.can_write_practices(request.user)
    return render(request, "practices/practice_list.html", context)


def practice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    practice = get_object_or_404(
        _visible(request).prefetch_related("indicators", "sdgs", "attachments", "transitions__actor"), pk=pk
    )
    related = (
        Practice.objects.published()
        .filter(topics__in=practice.topics.all())
        .exclude(pk=practice.pk)
        .select_related("city__country")
        .prefetch_related("translations")
        .distinct()
        .order_by("-published_at", "-id")[:RELATED_PRACTICES]
    )
    return render(
        request,
        "practices/practice_detail.html",
        {
            "practice": practice,
            "related": related,
            "move_forms": [
                MoveForm(move=move, prefix=move) for move in permissions.allowed_moves(request.user, practice)
            ],
            "can_edit": permissions.editable_now(request.user, practice),
            "shown": practice.in_language(),
            "original_language_name": _original_language_name(practice),
            "translatable_languages": [
                (code, name) for code, name in LANGUAGE_CHOICES if code != practice.original_language
            ]
            if permissions.can_translate(request.user, practice)
            else [],
            "similar": services.similar_practices(
                user=request.user, city=practice.city, title=practice.title, exclude=practice.pk
            )
            if practice.status in Practice.EDITABLE and permissions.is_city_officer(request.user, practice)
            else [],
        },
    )


def _original_language_name(practice: Practice) -> str:
    """The practice's language named in the reader's: the portal's own, else CLDR's name ("kk": "Kazakh")."""
    if practice.original_language in dict(LANGUAGE_CHOICES):
        return language_name(practice.original_language)
    return dict(language_choices_for_reader()).get(practice.language, practice.language)


@login_required
def practice_translate(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """An officer of the practice's city writes its title and summary in `language`."""
    practice = get_object_or_404(_visible(request), pk=pk)
    if language not in dict(LANGUAGE_CHOICES):
        raise Http404
    if not permissions.can_translate(request.user, practice):
        raise PermissionDenied(_("Only the officers of the practice's city can translate it."))
    existing = next((row for row in practice.translations.all() if row.language == language), None)
    initial = {"title": existing.title, "summary": existing.summary} if existing else {}
    form = TranslationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_practice_translation(
                practice=practice, language=language, by=_person(request), **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The translation is saved."))
            return redirect(practice)
    return render(
        request,
        "practices/practice_translation.html",
        {
            "practice": practice,
            "form": form,
            "language": language,
            "language_name": language_name(language),
            "original_language_name": _original_language_name(practice),
        },
    )


def _save(request: HttpRequest, practice: Practice | None) -> HttpResponse:
    """The submission form with its indicator rows; "save and submit" also submits."""
    person = _person(request)
    city = practice.city if practice else person.city
    if city is None or (practice is None and not permissions.can_create_for(person, city)):
        raise PermissionDenied(_("Only municipal officers can write practices for their city."))
    if practice is not None and not permissions.can_edit(person, practice):
        raise PermissionDenied(_("You may not change this practice."))
    if practice is not None and not permissions.editable_now(person, practice):
        messages.error(
            request,
            _("This practice is %(status)s; you cannot change it now.")
            % {"status": practice.get_status_display().lower()},
        )
        return redirect(practice)
    initial_rows = (
        [
            {name: getattr(row, name) for name in ("indicator", "unit", "baseline", "achieved", "year")}
            for row in practice.indicators.all()
        ]
        if practice
        else []
    )
    attachments_allowed = practice is None or permissions.attachments_editable_now(person, practice)
    # A new practice is written, by default, in the language its author reads the portal in ("zh-hans": "zh"), as
    # an agreement is (a walk-through in Russian found English preset, and saved a Russian text as English).
    form = PracticeForm(
        request.POST or None,
        request.FILES or None,
        instance=practice,
        attachments_allowed=attachments_allowed,
        initial=None if practice else {"language": person.language.split("-")[0]},
    )
    formset = IndicatorFormSet(request.POST or None, initial=initial_rows, prefix="indicators")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {name: value for name, value in form.cleaned_data.items()}
        topics, sdgs = data.pop("topics"), data.pop("sdgs")
        new_files, removed = data.pop("new_attachments", []), data.pop("remove_attachments", [])
        added: list[PracticeAttachment] = []
        saved = False
        try:
            with transaction.atomic():
                if practice is None:
                    practice = services.create_practice(
                        by=person, city=city, topics=topics, sdgs=sdgs, indicators=indicator_rows(formset), **data
                    )
                else:
                    practice = services.update_practice(
                        practice=practice,
                        by=person,
                        topics=topics,
                        sdgs=sdgs,
                        indicators=indicator_rows(formset),
                        **data,
                    )
                for attachment in removed:
                    services.remove_attachment(attachment=attachment, by=person)
                for upload in new_files:
                    added.append(services.add_attachment(practice=practice, by=person, upload=upload))
                if Practice.Move.SUBMIT in request.POST:
                    services.make_move(practice=practice, move=Practice.Move.SUBMIT, by=person)
            saved = True
        except NotPermittedError as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            # A new practice that failed is rolled back: the form must not link to it.
            practice = None if form.instance.pk is None else practice
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The practice is saved."))
            return redirect(practice)
        finally:
            # Files are written to the storage as they are attached; a rolled-back save keeps none.
            if not saved:
                for attachment in added:
                    attachment.file.delete(save=False)
    similar = (
        services.similar_practices(
            user=person,
            city=city,
            title=str(form["title"].value() or ""),
            text=str(form["summary"].value() or ""),
            exclude=practice.pk if practice else None,
        )
        if request.method == "POST" or practice
        else []
    )
    return render(
        request,
        "practices/practice_form.html",
        {"form": form, "formset": formset, "practice": practice, "city": city, "similar": similar},
    )


def practice_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """A file of a practice, as a download, for whoever sees the practice; 404 for anyone else."""
    practice = get_object_or_404(Practice.objects.visible_to(request.user), pk=pk)
    attachment = get_object_or_404(PracticeAttachment, pk=attachment_pk, practice=practice)
    return uploads.download(attachment.file, filename=attachment.download_stem)


@login_required
def practice_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
def practice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, get_object_or_404(_visible(request), pk=pk))


@login_then_back_to_the_form
@require_POST
def practice_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    practice = get_object_or_404(_visible(request), pk=pk)
    if move not in permissions.MOVE_PERMISSIONS:
        raise Http404(_("Unknown move."))
    if not permissions.can_move(request.user, practice, move):
        raise PermissionDenied(_("You may not make this move on this practice."))
    form = MoveForm(request.POST, move=move, prefix=move)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect(practice)
    try:
        result = services.make_move(practice=practice, move=move, by=_person(request), **form.cleaned_data)
    except NotPermittedError as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        status = practice.get_status_display()
        if result.repeated:
            messages.info(request, _("Already done: the practice is %(status)s.") % {"status": status})
        else:
            messages.success(request, _("Done: %(status)s.") % {"status": status})
    return redirect(practice)


@login_required
def moderation_queue(request: HttpRequest) -> HttpResponse:
    """What waits on this person: submissions to moderate (coordinators), returned practices (officers)."""
    waiting = permissions.waiting_on(_visible(request), request.user).order_by("updated_at", "id")
    return render(request, "practices/moderation.html", {"practices": waiting})


@login_required
@require_GET
def similar_practices(request: HttpRequest) -> JsonResponse:
    """The duplicate hint the submission form asks for while the officer types the title."""
    city = getattr(request.user, "city", None)
    exclude = request.GET.get("exclude", "")
    found = services.similar_practices(
        user=request.user,
        city=city,
        title=request.GET.get("title", ""),
        text=request.GET.get("text", ""),
        # isdecimal, not isdigit: "²" is a digit that int() refuses; a practice id has at most 18 digits.
        exclude=int(exclude) if exclude.isdecimal() and len(exclude) <= 18 else None,
    )
    results: list[dict[str, Any]] = [
        {"title": practice.title, "city": practice.city.display_name, "url": practice.get_absolute_url()}
        for practice in found
    ]
    return JsonResponse({"results": results})


@login_then_back_to_the_form
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Ask for the whole published library as a file; its page shows the progress."""
    format = request.POST.get("format", LibraryExport.Format.CSV)
    if format not in LibraryExport.Format.values:
        messages.error(request, _("Choose CSV or JSON."))
        return redirect("practices:list")
    export = exports.start_library_export(by=_person(request), format=format)
    return redirect(export)


def _own_export(request: HttpRequest, pk: int) -> LibraryExport:
    return get_object_or_404(LibraryExport, pk=pk, requested_by=request.user)


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The export's progress bar, refreshed every few seconds until the file is ready."""
    return render(request, "practices/export_detail.html", {"export": _own_export(request, pk)})


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    export = _own_export(request, pk)
    if export.status != LibraryExport.Status.DONE:
        raise Http404(_("The file is not ready."))
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=f"practices.{export.format}")
