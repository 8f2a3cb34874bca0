"""A stand-in for the partnership views that will raise events: one POST, one transaction, one event."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from cities.models import City
from notifications.services import notify
from partnerships import events as agreement_events
from sco_portal import urls as portal_urls
from tests.notifications.stand_ins import agreement_context


@csrf_exempt
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    initiator = City.objects.get(name="Almaty")
    partner = City.objects.get(name="Bishkek")
    with transaction.atomic():
        notify(
            event=agreement_events.PROPOSED,
            recipients=User.objects.filter(city=partner),
            context=agreement_context(initiator, partner, pk=pk, title=f"Agreement {pk}"),
            occurrence=f"agreement:{pk}:transition:1",
        )
    return HttpResponse("proposed")


# The portal's own pages too: e-mails link to them.
urlpatterns = [path("agreements/<int:pk>/propose/", propose), *portal_urls.urlpatterns]
