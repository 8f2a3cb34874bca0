"""Work on people: the language they read the portal and their e-mails in, the demo accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import events
from accounts.models import User
from cities.models import City, Country
from sco_portal.errors import DomainError

# username -> (role, GeoNames id of the city or ISO code of the country)
DEMO_OFFICERS = {
    "officer.almaty": 1526384,
    "officer.bishkek": 1528675,
    "officer.samarkand": 1216265,
    "officer.kazan": 551487,
    "officer.xian": 1790630,
}
DEMO_COORDINATORS = {
    "coordinator.kz": "KZ",
    "coordinator.kg": "KG",
    "coordinator.uz": "UZ",
    "coordinator.ru": "RU",
    "coordinator.cn": "CN",
}


@transaction.atomic
def set_language(*, person: User, language: str) -> User:
    """Store the language a person reads the portal in; their pages and e-mails follow it.

    A regional variant is stored as the portal's language it falls back to (`ru-ru` as
    `ru`); a language the portal does not speak is refused.
    """
    try:
        code = translation.get_supported_language_variant(language)
    except LookupError:
        raise DomainError(_("The portal does not speak “%(language)s”.") % {"language": language}) from None
    if person.language != code:
        person.language = code
        person.save(update_fields=["language"])
    return person


@transaction.atomic
def create_demo_accounts(*, password: str) -> list[str]:
    """Create the demo accounts that are missing; an existing account is never changed.

    Needs the countries and the demo cities imported first.
    """
    created: list[str] = []

    def add(username: str, **fields: object) -> None:
        if User.objects.filter(username=username).exists():
            return
        user = User(username=username, email=f"{username}@example.org", **fields)
        user.set_password(password)
        user.save()
        created.append(username)

    for username, geonameid in DEMO_OFFICERS.items():
        add(username, role=User.Role.OFFICER, city=City.objects.get(geonameid=geonameid))
    for username, code in DEMO_COORDINATORS.items():
        add(username, role=User.Role.NATIONAL_COORDINATOR, country=Country.objects.get(code=code))
    add("coordinator.sco", role=User.Role.SCO_COORDINATOR)
    add("admin", role=User.Role.VISITOR, is_staff=True, is_superuser=True)
    return created


@transaction.atomic
def send_password_reset(*, person: User, uid: str, token: str) -> None:
    """E-mail `person` the link that sets a new password, through the outbox.

    The occurrence is the token, so a second request for the same link adds no second
    e-mail, while a new token (after a login or a password change) makes a new one.
    """
    # Imported here: notifications imports accounts' model through the user setting.
    from notifications.services import notify

    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    notify(
        event=events.PASSWORD_RESET,
        recipients=[person],
        context={"action_url": path, "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
        occurrence=f"{uid}:{token}",
    )
