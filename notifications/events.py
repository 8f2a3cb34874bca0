"""The kinds of e-mail the portal sends, declared by the apps that raise them.

An app registers each of its events once, from its `events` module, which its
AppConfig imports in `ready()`:

    REPORT_DUE = register(
        "report_due",
        label=_("A report is due"),
        optional=False,
        templates="reports/email/report_due",
        subject="report",
    )

`templates` is the folder with `subject.txt`, `body.txt` and `body.html`;
`subject` names the context entry whose `get_absolute_url()` is the e-mail's
link. The outbox stores the event's name, so a new event needs no migration
here, and this app knows nothing of the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventType:
    """One kind of e-mail. A required one asks the reader to act, so nobody can turn it off."""

    name: str
    label: str | Promise
    optional: bool
    templates: str
    subject: str = ""
    # Sent at once even to a daily-digest subscriber: a link that expires cannot wait a day.
    immediate: bool = False


_REGISTRY: dict[str, EventType] = {}


def register(
    name: str, *, label: str | Promise, optional: bool, templates: str, subject: str = "", immediate: bool = False
) -> str:
    """Declare an event and return its name, which is what `notify()` takes and the outbox stores.

    Declaring the same name twice differently is a configuration error.
    """
    event = EventType(
        name=name, label=label, optional=optional, templates=templates, subject=subject, immediate=immediate
    )
    if _REGISTRY.setdefault(name, event) != event:
        raise ImproperlyConfigured(f"The e-mail event {name!r} is registered twice, differently.")
    return name


def get(name: str) -> EventType:
    """The registered event of this name; ValueError for one no app declared."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a registered e-mail event") from None


def registered() -> list[EventType]:
    return list(_REGISTRY.values())


def optional_events() -> list[EventType]:
    """The kinds a person may turn off, in the order the apps declared them."""
    return [event for event in _REGISTRY.values() if event.optional]


def required_events() -> list[EventType]:
    return [event for event in _REGISTRY.values() if not event.optional]


def is_optional(name: str) -> bool:
    event = _REGISTRY.get(name)
    return event is not None and event.optional


DAILY_DIGEST = register(
    "daily_digest", label=_("Daily digest"), optional=False, templates="notifications/email/daily_digest"
)
