from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from matching import services
from matching.models import Dismissal, RecomputeRun, Suggestion


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("city", "rank", "candidate", "score", "computed_at")
    list_select_related = ("city", "candidate")
    raw_id_fields = ("city", "candidate")
    search_fields = ("city__name",)


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    """Officers dismiss from their city's page (matching.services, which recomputes the city); staff may see
    and delete dismissals here, and a deletion recomputes the city the same way."""

    list_display = ("city", "candidate", "dismissed_by", "created_at")
    raw_id_fields = ("city", "candidate", "dismissed_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Dismissal | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Dismissal) -> None:
        super().delete_model(request, obj)
        services.schedule_city_recompute([obj.city_id], own_list_only=True)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Dismissal]) -> None:
        city_ids = set(queryset.values_list("city_id", flat=True))
        super().delete_queryset(request, queryset)
        services.schedule_city_recompute(city_ids, own_list_only=True)


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ("created_at", "status", "block_count", "city_count", "suggestion_count", "finished_at")
    readonly_fields = ("error",)
