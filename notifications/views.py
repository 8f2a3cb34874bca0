from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from notifications import events
from notifications.forms import PreferenceForm
from notifications.models import Message, Preference
from notifications.services import retry_failed_messages, save_preferences
from sco_portal.form_actions import login_then_back_to_the_form

if TYPE_CHECKING:
    from accounts.models import User

FAILED_SHOWN = 200


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)  # login_required
    preference = Preference.objects.filter(user=user).first()
    form = PreferenceForm(request.POST or None, initial=PreferenceForm.initial_for(preference))
    if request.method == "POST" and form.is_valid():
        save_preferences(
            user=user,
            delivery=form.cleaned_data["delivery"],
            muted_events=form.muted_events(),
        )
        messages.success(request, _("Your e-mail preferences are saved."))
        return redirect("notifications:preferences")
    always = [event.label for event in events.required_events() if event.name != events.DAILY_DIGEST]
    return render(request, "notifications/preferences.html", {"form": form, "always": always})


def _staff_only(request: HttpRequest) -> None:
    # The outbox holds other people's mail: to anyone but staff it does not exist.
    if not request.user.is_staff:
        raise Http404


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    counts = Message.objects.counts_by_status()
    failed = Message.objects.filter(status=Message.Status.FAILED).order_by("-updated_at")[:FAILED_SHOWN]
    return render(
        request,
        "notifications/outbox.html",
        {
            "counts": [(Message.Status(status).label, count) for status, count in counts.items()],
            "failed": failed,
            "failed_count": counts[Message.Status.FAILED],
        },
    )


@login_then_back_to_the_form
@require_POST
def retry(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    if request.POST.get("all"):
        ids = list(Message.objects.filter(status=Message.Status.FAILED).values_list("pk", flat=True))
    else:
        # isdecimal, not isdigit ("²" is a digit int() refuses); an id has at most 18 digits (64 bits).
        ids = [int(value) for value in request.POST.getlist("message") if value.isdecimal() and len(value) <= 18]
    count = retry_failed_messages(message_ids=ids)
    messages.success(
        request,
        ngettext("%(count)d message is queued again.", "%(count)d messages are queued again.", count)
        % {"count": count},
    )
    return redirect("notifications:outbox")
