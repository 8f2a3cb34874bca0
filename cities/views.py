from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cities.filters import CityFilter
from cities.forms import CityProfileForm
from cities.models import City, Country
from cities.pagination import DirectoryPaginator
from cities.permissions import can_edit_city_profile
from cities.services import save_city_profile
from sco_portal.paging import paged_list_context

CITIES_PER_PAGE = 50


def home(request: HttpRequest) -> HttpResponse:
    countries = list(
        Country.objects.prefetch_related("status_history").annotate(city_count=Count("cities")).order_by("name")
    )
    # In the reader's alphabet: a Russian page listed Камбоджа, Китай, Египет (the English order). Chinese keeps the
    # English order: its own (by pinyin) needs a dictionary this portal does not have.
    if not (get_language() or "en").startswith("zh"):
        countries.sort(key=lambda country: country.display_name.casefold())
    return render(
        request,
        "cities/home.html",
        {
            "countries": countries,
            "city_count": City.objects.count(),
            "largest_cities": City.objects.select_related("country").order_by("-population")[:12],
        },
    )


def city_list(request: HttpRequest) -> HttpResponse:
    city_filter = CityFilter(request.GET, queryset=City.objects.select_related("country").defer(*City.LIST_DEFERRED))
    context = paged_list_context(request, city_filter, CITIES_PER_PAGE, paginator_class=DirectoryPaginator)
    return render(request, "cities/city_list.html", context)


def city_detail(request: HttpRequest, pk: int) -> HttpResponse:
    city = get_object_or_404(City.objects.select_related("country").prefetch_related("needs", "expertise"), pk=pk)
    return render(
        request,
        "cities/city_detail.html",
        {"city": city, "can_edit": can_edit_city_profile(request.user, city)},
    )


@login_required
def city_edit(request: HttpRequest, pk: int) -> HttpResponse:
    city = get_object_or_404(City, pk=pk)
    if not can_edit_city_profile(request.user, city):
        raise PermissionDenied(_("Only the officers of %(city)s can change its profile.") % {"city": city})
    form = CityProfileForm(request.POST or None, instance=city)
    if request.method == "POST" and form.is_valid():
        city = form.save(commit=False)
        save_city_profile(city=city, needs=form.cleaned_data["needs"], expertise=form.cleaned_data["expertise"])
        messages.success(request, _("The profile of %(city)s is saved.") % {"city": city})
        return redirect("cities:detail", pk=city.pk)
    return render(request, "cities/city_edit.html", {"city": city, "form": form})
