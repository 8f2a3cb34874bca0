"""Stand-ins for the agreements, practices and suggestions that later apps will pass to notify().

They have exactly the duck-typed attributes the notification templates may use,
no more, so a template that reaches for anything else fails here first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import User
from cities.models import City


@dataclass
class Agreement:
    pk: int
    title: str
    initiator: City
    partner: City
    status_label: str = "Proposed"

    def get_status_display(self) -> str:
        return self.status_label

    @property
    def shown(self) -> Agreement:
        """The title in the reader's language (partnerships' `HasTranslations.shown`): the stand-in has one only."""
        return self

    def get_absolute_url(self) -> str:
        return f"/partnerships/{self.pk}/"


@dataclass
class Practice:
    pk: int
    title: str
    city: City

    @property
    def shown(self) -> Practice:
        """The title in the reader's language (practices' `HasTranslations.shown`): the stand-in has one only."""
        return self

    def get_absolute_url(self) -> str:
        return f"/practices/{self.pk}/"


@dataclass
class Suggestion:
    city: City
    reasons: list[str] = field(default_factory=list)


def agreement_context(
    initiator: City,
    partner: City,
    *,
    pk: int = 17,
    title: str = "Almaty and Bishkek: clean air",
    actor: User | None = None,
) -> dict[str, object]:
    return {
        "agreement": Agreement(pk=pk, title=title, initiator=initiator, partner=partner),
        "actor": actor,
        "comment": "",
    }


def practice_context(
    city: City, *, pk: int = 5, title: str = "Bus lanes in a year", comment: str = ""
) -> dict[str, object]:
    return {"practice": Practice(pk=pk, title=title, city=city), "actor": None, "comment": comment}
