from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Message, Preference
from notifications.services import retry_failed_messages


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox, read-only: rows change only through the send task and the retry action."""

    list_display = ("created_at", "event", "email", "language", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "event", "language")
    search_fields = ("email", "subject", "occurrence", "=dedupe_key")
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.action(description=_("Send the selected failed messages again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = retry_failed_messages(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d message is queued again.", "%(count)d messages are queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "delivery", "muted_events")
    list_filter = ("delivery",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)
