"""A city's data changed: who wants to know, without the apps that change it knowing who.

Cities (profile), partnerships (agreements) and practices call `cities_changed`
from their services, inside their transaction; matching subscribes in its
AppConfig.ready() and recomputes those cities' suggestions after the commit.
An explicit call from a service, not a model signal: `save()` stays free of side effects.
"""

from __future__ import annotations

from collections.abc import Callable

# Called with the cities' ids and `between_them_only=` (see cities_changed()).
Listener = Callable[..., None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def cities_changed(*city_ids: int, between_them_only: bool = False) -> None:
    """The profile, agreements or practices of these cities changed (called inside the changing transaction).

    `between_them_only`: what changed concerns these cities with each other alone, nothing other cities see of
    them: an agreement opened or closed between them without entering or leaving the public record (a draft, a
    proposal withdrawn, a term ended)."""
    ids = sorted({int(city_id) for city_id in city_ids})
    if not ids:
        return
    for listener in _listeners:
        listener(ids, between_them_only=between_them_only)
