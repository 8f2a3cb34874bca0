from __future__ import annotations

import csv

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from overview import charts, services


def map_text() -> dict[str, str]:
    """The words the map's script writes, in the reader's language."""
    return {
        "city": _("City"),
        "agreement": _("Open the agreement"),
        "open_city": _("Open the city"),
        "active": _("active"),
        "proposed": _("in progress"),
        "dormant": _("dormant"),
        # "%(cities)s" and "%(lines)s" are replaced by the script.
        "summary": _("%(cities)s cities and %(lines)s partnerships shown."),
    }


def map_page(request: HttpRequest) -> HttpResponse:
    """The directory's cities and the partnerships as lines, on country outlines shipped with the portal."""
    return render(request, "overview/map.html", {"map_text": map_text()})


def map_data(request: HttpRequest) -> JsonResponse:
    data = services.map_data(user=request.user, language=get_language())
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
    # The names follow the reader's language and the lines what they may see.
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    patch_cache_control(response, private=True, max_age=300)
    return response


def dashboard(request: HttpRequest) -> HttpResponse:
    """Partnerships by country pair, by status and year, the dormant ones, how long approval takes; published
    practices by topic and by country."""
    statuses = services.agreements_by_status(request.user)
    years = services.agreements_by_year(request.user)
    approval = services.approval_times(request.user)
    practice_topics = services.practices_by_topic(request.user)
    practice_countries = services.practices_by_country(request.user)
    return render(
        request,
        "overview/dashboard.html",
        {
            "pairs": services.pairs_by_country(request.user),
            "statuses": statuses,
            "status_chart": charts.bar_chart(
                [(label, count) for _value, label, count in statuses],
                title=_("Agreements by status"),
                chart_id="status-chart",
            ),
            "years": years,
            "years_chart": charts.bar_chart(
                [(str(year), count) for year, count in years],
                title=_("Agreements signed by year"),
                chart_id="years-chart",
            ),
            "dormant": services.dormant_agreements(request.user),
            "approval": approval,
            "approval_chart": charts.bar_chart(
                [(country.display_name, days) for country, days, _count in approval.by_country],
                title=_("Median days from proposal to approval, by country"),
                chart_id="approval-chart",
            ),
            "practice_total": services.published_practices(request.user).count(),
            "practice_topics": practice_topics,
            "practice_topics_chart": charts.bar_chart(
                [(topic.display_name, count) for topic, count in practice_topics],
                title=_("Published practices by topic"),
                chart_id="practice-topics-chart",
            ),
            "practice_countries": practice_countries,
            "practice_countries_chart": charts.bar_chart(
                [(country.display_name, count) for country, count in practice_countries],
                title=_("Published practices by country"),
                chart_id="practice-countries-chart",
            ),
        },
    )


def dashboard_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One dashboard table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Cyrillic and Chinese)."""
    user = request.user
    rows: list[list[object]]
    if name == "pairs":
        matrix = services.pairs_by_country(user)
        countries = sorted(matrix.countries, key=lambda country: country.code)  # the same in every language
        rows = [["country", "partner_country", "partnerships"]]
        rows += [
            [first.code, second.code, matrix.counts.get((first.pk, second.pk), 0)]
            for index, first in enumerate(countries)
            for second in countries[index:]
            if matrix.counts.get((first.pk, second.pk))
        ]
    elif name == "status":
        rows = [["status", "label", "agreements"], *map(list, services.agreements_by_status(user))]
    elif name == "years":
        rows = [["year", "agreements_signed"]]
        rows += [[year, count] for year, count in services.agreements_by_year(user)]
    elif name == "dormant":
        rows = [["agreement_id", "title", "initiator", "partner", "last_activity_on"]]
        rows += [
            [a.pk, a.shown.title, a.initiator.display_name, a.partner.display_name, getattr(a, "last_activity_on", "")]
            for a in services.dormant_agreements(user)
        ]
    elif name == "approval":
        times = services.approval_times(user)
        rows = [["country", "median_days", "agreements"], ["", times.median_days or "", times.count]]
        rows += [[country.code, days, count] for country, days, count in times.by_country]
    elif name == "practice-topics":
        rows = [["topic", "label", "practices"]]
        rows += [[topic.slug, topic.display_name, count] for topic, count in services.practices_by_topic(user)]
    elif name == "practice-countries":
        rows = [["country", "name", "practices"]]
        rows += [[country.code, country.display_name, count] for country, count in services.practices_by_country(user)]
    else:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sco-{name}.csv"'
    response.write("\ufeff")
    csv.writer(response).writerows(rows)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response
