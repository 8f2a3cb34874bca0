"""What officers do with their suggestions ("Not interested" and its undo), and the weekly e-mail of them."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cities import events as city_events
from cities.models import City
from matching import reasons
from matching.models import Dismissal, Suggestion, WeeklyDigest
from matching.services.one_city import schedule_city_recompute
from notifications.services import notify
from sco_portal.errors import DomainError, NotPermittedError


def can_act_for(user: Any, city: City) -> bool:
    """The city's own active officers dismiss candidates and propose partnerships from its suggestions."""
    return bool(
        isinstance(user, User) and user.is_active and user.role == User.Role.OFFICER and user.city_id == city.pk
    )


@transaction.atomic
def dismiss_candidate(*, city: City, candidate: City, by: User) -> Dismissal:
    """ "Not interested": the candidate is no longer suggested to this city; its list is recomputed after commit."""
    if not can_act_for(by, city):
        raise NotPermittedError(reasons.not_your_city(city))
    if city.pk == candidate.pk:
        raise DomainError(reasons.same_city())
    dismissal, _created = Dismissal.objects.get_or_create(city=city, candidate=candidate, defaults={"dismissed_by": by})
    Suggestion.objects.filter(city=city, candidate=candidate).delete()
    schedule_city_recompute([city.pk], own_list_only=True)
    return dismissal


@transaction.atomic
def undo_dismissal(*, city: City, candidate: City, by: User) -> None:
    """The officer changes their mind: the candidate may be suggested again."""
    if not can_act_for(by, city):
        raise NotPermittedError(reasons.not_your_city(city))
    deleted, _by_model = Dismissal.objects.filter(city=city, candidate=candidate).delete()
    if deleted:
        schedule_city_recompute([city.pk], own_list_only=True)


# -- the weekly e-mail ----------------------------------------------------------------------------


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def send_weekly_suggestions(*, today: datetime.date | None = None) -> int:
    """E-mail each city's officers its suggestions, once per ISO week (the WeeklyDigest row is the claim)."""
    week = week_of(today or timezone.localdate())
    officers: dict[int, list[User]] = {}
    for person in User.objects.filter(role=User.Role.OFFICER, is_active=True, city__isnull=False):
        assert person.city_id is not None
        officers.setdefault(person.city_id, []).append(person)
    sent = 0
    for city in City.objects.filter(pk__in=officers).select_related("country").order_by("pk"):
        suggestions = list(
            Suggestion.objects.filter(city=city).select_related("candidate__country", "city__country").order_by("rank")
        )
        if not suggestions:
            continue
        with transaction.atomic():
            _digest, created = WeeklyDigest.objects.get_or_create(city=city, week=week)
            if not created:
                continue
            notify(
                event=city_events.PARTNER_SUGGESTIONS,
                recipients=officers[city.pk],
                context={"city": city, "suggestions": reasons.for_mail(suggestions)},
                occurrence=f"city:{city.pk}:partner-suggestions:{week.isoformat()}",
            )
        sent += 1
    return sent
