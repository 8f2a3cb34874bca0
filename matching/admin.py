from django.contrib import admin

from matching.models import Dismissal, RecomputeRun, Suggestion


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("city", "rank", "candidate", "score", "computed_at")
    list_select_related = ("city", "candidate")
    raw_id_fields = ("city", "candidate")
    search_fields = ("city__name",)


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    list_display = ("city", "candidate", "dismissed_by", "created_at")
    raw_id_fields = ("city", "candidate", "dismissed_by")


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ("created_at", "status", "block_count", "city_count", "suggestion_count", "finished_at")
    readonly_fields = ("error",)
