from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from cities.models import City, Country, CountryStatus, Topic
from cities.services import save_city_profile


class CountryStatusInline(admin.TabularInline):
    model = CountryStatus
    extra = 1


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ru", "name_zh")
    search_fields = ("code", "name", "name_ru", "name_zh")
    inlines = [CountryStatusInline]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ru", "name_zh", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "population", "is_capital", "profile_updated_at")
    list_filter = ("country", "is_capital", "feature_code", "name_ru_source", "name_zh_source")
    list_select_related = ("country",)
    search_fields = ("name", "ascii_name", "name_ru", "name_zh", "=geonameid")
    readonly_fields = (
        "geonameid",
        "name",
        "ascii_name",
        "name_ru",
        "name_ru_source",
        "name_zh",
        "name_zh_source",
        "search_names",
        "search_keys",
        "country",
        "population",
        "latitude",
        "longitude",
        "timezone",
        "is_capital",
        "region_code",
        "feature_code",
    )
    filter_horizontal = ("needs", "expertise")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Cities come from GeoNames (`import_cities`); staff edit their profiles only.
        return False

    def save_model(self, request: HttpRequest, obj: City, form: ModelForm[City], change: bool) -> None:
        # As the officers' edit page does, so the profile records when it changed.
        save_city_profile(city=obj)
