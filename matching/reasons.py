"""Why a candidate is suggested: reasons as codes with numbers (stored), and as sentences in the reader's language.

Codes are computed with the scores and kept in Suggestion.components["reasons"];
sentences are made when someone reads them, so each reader gets their language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cities.models import City, Topic
from matching.scoring import BORDER_KM, CityTable

# Two cities whose populations differ by less than this factor are "of similar size".
SIMILAR_SIZE_FACTOR = 2.0
# Reasons in the order a reader wants them: what the cities can do for each other first.
ORDER = ("needs", "offers", "similar_size", "distance", "border", "common_partners", "country_pair", "active")


def codes(
    table: CityTable, city: int, candidate: int, topics: Sequence[int], features: dict[str, float]
) -> list[dict[str, Any]]:
    """The reasons for one suggestion (table positions), as codes with their numbers.

    Distance and shared partners are read back from the pair's features, which hold them.
    """
    found: list[dict[str, Any]] = []
    for code, asker, giver in (("needs", city, candidate), ("offers", candidate, city)):
        for column in np.flatnonzero(table.needs[asker] & table.offers[giver]):
            found.append(
                {
                    "code": code,
                    "topic": int(topics[int(column)]),
                    "practices": int(table.practices[giver, column]),
                    "expertise": bool(table.expertise[giver, column]),
                }
            )
    population, other = float(table.population[city]), float(table.population[candidate])
    if max(population, other) < SIMILAR_SIZE_FACTOR * max(1.0, min(population, other)):
        found.append({"code": "similar_size", "population": int(population), "candidate_population": int(other)})
    kilometres = float(10 ** -features["distance"] - 100.0)
    found.append({"code": "distance", "km": int(round(max(kilometres, 0.0), -1 if kilometres < 1000 else -2))})
    if table.borders[table.country[city], table.country[candidate]] and kilometres <= BORDER_KM:
        found.append({"code": "border"})
    common = round(float(np.expm1(features["common_partners"])))
    if common:
        found.append({"code": "common_partners", "count": common})
    pairs = int(table.country_pairs[table.country[city], table.country[candidate]])
    if pairs:
        found.append({"code": "country_pair", "count": pairs})
    if table.degree[candidate]:
        found.append({"code": "active", "count": int(table.degree[candidate])})
    return found


def _millions(people: int) -> str:
    return number_format(people / 1_000_000, decimal_pos=1) if people >= 100_000 else number_format(people)


def sentence(reason: dict[str, Any], city: City, candidate: City, topic_names: dict[int, str]) -> str:
    """One reason as a sentence in the active language."""
    code = reason.get("code")
    names = {"city": city.display_name, "candidate": candidate.display_name}
    if code in ("needs", "offers"):
        asker, giver = (city, candidate) if code == "needs" else (candidate, city)
        topic = topic_names.get(reason["topic"], "?")
        values = {
            "asker": asker.display_name,
            "giver": giver.display_name,
            "topic": topic,
            "count": reason["practices"],
        }
        if reason["practices"]:
            return (
                ngettext(
                    "%(asker)s needs %(topic)s; %(giver)s has published %(count)d practice on it",
                    "%(asker)s needs %(topic)s; %(giver)s has published %(count)d practices on it",
                    reason["practices"],
                )
                % values
            )
        return _("%(asker)s needs %(topic)s; %(giver)s has expertise in it") % values
    if code == "similar_size":
        first, second = reason["population"], reason["candidate_population"]
        if max(first, second) >= 100_000:
            return _("similar size: %(first)s and %(second)s million people") % {
                "first": _millions(first),
                "second": _millions(second),
            }
        return _("similar size: %(first)s and %(second)s people") % {
            "first": number_format(first, force_grouping=True),
            "second": number_format(second, force_grouping=True),
        }
    if code == "distance":
        return _("%(km)s km apart") % {"km": number_format(reason["km"], force_grouping=True)}
    if code == "border":
        return _("neighbours across the border")
    if code == "common_partners":
        return ngettext(
            "%(count)d of %(candidate)s's partners is a partner of %(city)s's",
            "%(count)d of %(candidate)s's partners are partners of %(city)s's",
            reason["count"],
        ) % {**names, "count": reason["count"]}
    if code == "country_pair":
        return ngettext(
            "the cities of %(country)s and %(other)s already have %(count)d partnership",
            "the cities of %(country)s and %(other)s already have %(count)d partnerships",
            reason["count"],
        ) % {
            "country": city.country.display_name,
            "other": candidate.country.display_name,
            "count": reason["count"],
        }
    if code == "active":
        return ngettext(
            "%(candidate)s already has %(count)d partner city",
            "%(candidate)s already has %(count)d partner cities",
            reason["count"],
        ) % {**names, "count": reason["count"]}
    return str(code)


def ordered(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(found, key=lambda reason: ORDER.index(reason["code"]) if reason.get("code") in ORDER else len(ORDER))


def topic_names() -> dict[int, str]:
    return {topic.pk: topic.display_name for topic in Topic.objects.all()}


def sentences(suggestion: Any, names: dict[int, str] | None = None) -> list[str]:
    """A suggestion's reasons as sentences in the active language (needs city and candidate with countries)."""
    names = topic_names() if names is None else names
    found = ordered(suggestion.components.get("reasons", []))
    return [sentence(reason, suggestion.city, suggestion.candidate, names) for reason in found]


class MailSuggestion:
    """A suggestion as the partner_suggestions e-mail reads it: `.city` and `.reasons`, made when rendered,
    so each recipient reads the reasons in their own language."""

    def __init__(self, suggestion: Any) -> None:
        self.suggestion = suggestion
        self.city = suggestion.candidate

    @property
    def reasons(self) -> list[str]:
        return sentences(self.suggestion)


def for_mail(suggestion: Any) -> MailSuggestion:
    return MailSuggestion(suggestion)


def not_your_city(city: City) -> str:
    return _("Only the officers of %(city)s can do this for its suggestions.") % {"city": city.display_name}


def same_city() -> str:
    return _("A city cannot be its own partner.")
