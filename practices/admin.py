from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from practices import services
from practices.models import (
    LibraryExport,
    Practice,
    PracticeAttachment,
    PracticeIndicator,
    PracticeTombstone,
    PracticeTransition,
    PracticeTranslation,
)


class IndicatorInline(admin.TabularInline):
    model = PracticeIndicator
    extra = 0


class TranslationInline(admin.TabularInline):
    model = PracticeTranslation
    extra = 0
    fields = ("language", "title", "summary", "translated_by")
    readonly_fields = ("translated_by",)


class TransitionInline(admin.TabularInline):
    model = PracticeTransition
    extra = 0
    can_delete = False
    readonly_fields = ("move", "from_status", "to_status", "actor", "comment", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    """Files are added and removed by the city's officers through the services (content check,
    generated name, storage clean-up); staff see them here and download them from the practice page."""

    model = PracticeAttachment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("name", "content_type", "size", "uploaded_by", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("title", "city", "status", "is_sample", "language", "updated_at")
    list_filter = ("status", "is_sample", "topics", "city__country")
    list_select_related = ("city",)
    search_fields = ("title", "summary", "city__name")
    autocomplete_fields = ("city",)
    filter_horizontal = ("topics", "sdgs")
    # The status changes only through the moves (pages, API), never by hand.
    readonly_fields = ("status", "author", "published_at", "created_at", "updated_at")
    inlines = [IndicatorInline, TranslationInline, AttachmentInline, TransitionInline]
    # As the city admin: the source link takes https when a person leaves the scheme out.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # Deleting goes through the service, so a published practice leaves its tombstone for API mirrors.
    def delete_model(self, request: HttpRequest, obj: Practice) -> None:
        services.delete_practice(practice=obj, by=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Practice]) -> None:
        for practice in queryset:
            services.delete_practice(practice=practice, by=request.user)  # type: ignore[arg-type]


@admin.register(PracticeTombstone)
class PracticeTombstoneAdmin(admin.ModelAdmin):
    list_display = ("practice_id", "reason", "at")
    list_filter = ("reason",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LibraryExport)
class LibraryExportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "requested_by", "format", "status", "written", "total")
    list_filter = ("status", "format")
    readonly_fields = ("requested_by", "format", "status", "total", "written", "file", "error", "finished_at")
