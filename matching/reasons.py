"""Why a candidate is suggested: reasons as codes with numbers (stored), and as sentences in the reader's language.

Codes are computed with the scores and kept in Suggestion.components["reasons"];
sentences are made when someone reads them, so each reader gets their language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from babel.numbers import format_compact_decimal
from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext, to_locale
from django.utils.translation import gettext as _

from cities.models import City, Topic
from matching.scoring import BORDER_KM, TopArrays, nearest_partner_km
from matching.table import EARTH_RADIUS_KM, CityTable, cosines

# Two cities whose populations differ by less than this factor are "of similar size".
SIMILAR_SIZE_FACTOR = 2.0
# A candidate among this many largest cities of its country is "number n by population".
PROMINENT_RANK = 20
# A partner of one city at most this far from the other is a reason.
NEAR_PARTNER_KM = 1500.0
# Reasons in the order a reader wants them: what the cities can do for each other first.
ORDER = (
    "needs",
    "offers",
    "similar_size",
    "distance",
    "border",
    "common_partners",
    "near_partner",
    "region_pair",
    "country_pair",
    "capitals",
    "region_seat",
    "district_seat",
    "prominent",
    "active",
)


def codes_block(table: CityTable, found: TopArrays, topics: Sequence[int]) -> list[list[list[dict[str, Any]]]]:
    """The reasons of every suggestion of a block (found[row][n]), as codes with their numbers.

    The numbers are gathered for the whole block with NumPy; only the dictionaries are made one by one.
    """
    r, top = found.rows[:, None], found.top
    population, other = np.broadcast_to(table.population[r], top.shape), table.population[top]
    similar = np.maximum(population, other) < SIMILAR_SIZE_FACTOR * np.maximum(1.0, np.minimum(population, other))
    kilometres = EARTH_RADIUS_KM * np.arccos(np.clip(cosines(table, r, top), -1.0, 1.0))
    kilometres = np.where(kilometres < 1000, np.round(kilometres, -1), np.round(kilometres, -2)).astype(np.int64)
    border = found.features["border"] > 0
    common = np.rint(np.expm1(found.features["common_partners"])).astype(np.int64)
    pairs = table.country_pairs[table.country[r], table.country[top]].astype(np.int64)
    degree = table.degree[top].astype(np.int64)
    capitals = table.capital[r] & table.capital[top]
    prominent = table.rank_in_country[top]
    regions = table.region_pairs[table.region_of[r], table.region_of[top]].astype(np.int64)
    region_seats = (table.region_seat[top] > 0) & ~table.capital[top]
    district_seats = table.district_seat[top] > 0
    # near_partner's partner: the nearer of the candidate's partner to the city and the city's to the candidate.
    flat_rows, flat_top = np.broadcast_to(r, top.shape).reshape(-1), top.reshape(-1)
    to_city, partner_of_candidate = nearest_partner_km(table, flat_rows, flat_top)
    to_candidate, partner_of_city = nearest_partner_km(table, flat_top, flat_rows)
    candidate_side = to_city <= to_candidate
    near_km = np.where(candidate_side, to_city, to_candidate).reshape(top.shape)
    near_partner = np.where(candidate_side, partner_of_candidate, partner_of_city).reshape(top.shape)
    near_side = candidate_side.reshape(top.shape)
    near_km = np.where(near_km < 1000, np.round(near_km, -1), np.round(near_km, -2)).astype(np.int64)
    needs = table.needs[r] & table.offers[top]  # (rows, k, topics): the row city needs, the candidate offers
    offers = table.needs[top] & table.offers[r]
    # The topic reasons of every suggestion, gathered for the block (NumPy calls per suggestion cost more than
    # the rest of the reasons at 100,000 cities): what the city needs first, then what it offers, by topic.
    topic_reasons: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for code, mask, givers in (("needs", needs, top), ("offers", offers, np.broadcast_to(r, top.shape))):
        local_of, place_of, column = np.nonzero(mask)
        giver = givers[local_of, place_of]
        for local, place, topic_column, practices, expertise in zip(
            local_of.tolist(),
            place_of.tolist(),
            column.tolist(),
            table.practices[giver, column].tolist(),
            table.expertise[giver, column].tolist(),
            strict=True,
        ):
            topic_reasons.setdefault((local, place), []).append(
                {"code": code, "topic": int(topics[topic_column]), "practices": practices, "expertise": expertise}
            )
    columns = [
        array.tolist()
        for array in (
            population,
            other,
            similar,
            kilometres,
            border,
            common,
            pairs,
            degree,
            capitals,
            prominent,
            near_km,
            near_partner,
            near_side,
            regions,
            region_seats,
            district_seats,
        )
    ]
    # The ids of the partners named only: the whole table's, made a list for each block, cost seconds with
    # 100,000 cities.
    partners = near_partner.reshape(-1)
    ids = dict(zip(partners.tolist(), table.ids[partners].tolist(), strict=True))
    result: list[list[list[dict[str, Any]]]] = []
    for local in range(len(found.rows)):
        row_reasons: list[list[dict[str, Any]]] = []
        for n, (
            p_i,
            p_j,
            alike,
            km,
            near,
            shared,
            between,
            active,
            both_capitals,
            rank,
            partner_km,
            partner,
            side,
            between_regions,
            region_seat,
            district_seat,
        ) in enumerate(zip(*(column[local] for column in columns), strict=True)):
            found_here = topic_reasons.get((local, n), [])
            if alike:
                found_here.append({"code": "similar_size", "population": int(p_i), "candidate_population": int(p_j)})
            found_here.append({"code": "distance", "km": km})
            if near:
                found_here.append({"code": "border"})
            if shared:
                found_here.append({"code": "common_partners", "count": shared})
            if partner >= 0 and partner_km <= NEAR_PARTNER_KM:
                found_here.append(
                    {
                        "code": "near_partner",
                        "partner": ids[partner],
                        "partner_names": table.names[partner] if table.names is not None else None,
                        "of": "candidate" if side else "city",
                        "km": partner_km,
                    }
                )
            if between_regions:
                found_here.append({"code": "region_pair", "count": between_regions})
            if between:
                found_here.append({"code": "country_pair", "count": between})
            if both_capitals:
                found_here.append({"code": "capitals"})
            if region_seat:
                found_here.append({"code": "region_seat"})
            if district_seat:
                found_here.append({"code": "district_seat"})
            if rank <= PROMINENT_RANK:
                found_here.append({"code": "prominent", "rank": rank})
            if active:
                found_here.append({"code": "active", "count": active})
            row_reasons.append(found_here)
        result.append(row_reasons)
    return result


def _people(count: int) -> str:
    """A population as the reader's language says it (CLDR's long compact form, through babel): "2 million",
    "2 миллиона", "200万"; below a million the number itself ("144,665"), but in Chinese in 万 from ten thousand
    ("14.5万"), as Chinese counts."""
    locale = to_locale(get_language() or "en")
    if count >= 1_000_000 or (locale.startswith("zh") and count >= 10_000):
        return format_compact_decimal(count, locale=locale, format_type="long", fraction_digits=1)
    return number_format(count, force_grouping=True)


def _in_reader_language(names: Sequence[str] | None) -> str:
    """A name given as (English, Russian, Chinese) in the active language's script, falling back to English."""
    if not names:
        return "?"
    language = (get_language() or "en").lower()
    english, russian, chinese = names
    if language.startswith("ru") and russian:
        return russian
    if language.startswith("zh") and chinese:
        return chinese
    return english


def _topic_in_sentence(name: str) -> str:
    """A topic's name inside an English sentence: "Bishkek needs waste management", not "Waste management". A name
    with another capital ("ICT", "Silk Road heritage") stays as it is. Other languages keep the name: the Russian
    sentence quotes it, Chinese has no case."""
    if (get_language() or "en").startswith("en") and name[1:2].islower() and name[1:] == name[1:].lower():
        return name[0].lower() + name[1:]
    return name


def sentence(reason: dict[str, Any], city: City, candidate: City, topic_names: dict[int, str]) -> str:
    """One reason as a sentence in the active language."""
    code = reason.get("code")
    names = {"city": city.display_name, "candidate": candidate.display_name}
    if code in ("needs", "offers"):
        asker, giver = (city, candidate) if code == "needs" else (candidate, city)
        topic = _topic_in_sentence(topic_names.get(reason["topic"], "?"))
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
        return _("similar size: %(first)s and %(second)s people") % {
            "first": _people(reason["population"]),
            "second": _people(reason["candidate_population"]),
        }
    if code == "distance":
        return _("%(km)s km apart") % {"km": number_format(reason["km"], force_grouping=True)}
    if code == "border":
        # Their countries share a land border, not necessarily these two cities (Minsk and Kaliningrad).
        return _("their countries share a border, and the two are less than %(km)s km apart") % {
            "km": number_format(int(BORDER_KM), force_grouping=True)
        }
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
    if code == "region_pair":
        return ngettext(
            "the cities of the regions of %(city)s and %(candidate)s already have %(count)d partnership",
            "the cities of the regions of %(city)s and %(candidate)s already have %(count)d partnerships",
            reason["count"],
        ) % {**names, "count": reason["count"]}
    if code == "region_seat":
        return _("%(candidate)s is the seat of its region") % names
    if code == "district_seat":
        return _("%(candidate)s is the seat of its district") % names
    if code == "near_partner":
        owner, other = (candidate, city) if reason["of"] == "candidate" else (city, candidate)
        return _("%(partner)s, a partner of %(owner)s, is %(km)s km from %(other)s") % {
            "partner": _in_reader_language(reason.get("partner_names")),
            "owner": owner.display_name,
            "other": other.display_name,
            "km": number_format(reason["km"], force_grouping=True),
        }
    if code == "capitals":
        return _("both are their countries' capitals")
    if code == "prominent":
        return _("%(candidate)s is number %(rank)d by population in %(country)s") % {
            "candidate": candidate.display_name,
            "rank": reason["rank"],
            "country": candidate.country.display_name,
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
    so each recipient reads the reasons in their own language; made once per language, from topics read once
    for the whole e-mail (the templates read `.reasons` more than once, for each recipient)."""

    def __init__(self, suggestion: Any, topics: Sequence[Topic]) -> None:
        self.suggestion = suggestion
        self.city = suggestion.candidate
        self._topics = topics
        self._sentences: dict[str, list[str]] = {}

    @property
    def reasons(self) -> list[str]:
        language = get_language() or ""
        if language not in self._sentences:
            names = {topic.pk: topic.display_name for topic in self._topics}
            self._sentences[language] = sentences(self.suggestion, names)
        return self._sentences[language]


def for_mail(suggestions: Sequence[Any]) -> list[MailSuggestion]:
    """A city's suggestions (with city, candidate and their countries) for its weekly e-mail."""
    topics = list(Topic.objects.all())
    return [MailSuggestion(suggestion, topics) for suggestion in suggestions]


def not_your_city(city: City) -> str:
    return _("Only the officers of %(city)s can do this for its suggestions.") % {"city": city.display_name}


def same_city() -> str:
    return _("A city cannot be its own partner.")


def recompute_not_started() -> str:
    return _(
        "The recompute did not start: the task queue cannot be reached. "
        "The suggestions stay as they are; try again later."
    )
