from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partnerships import services
from partnerships.models import Agreement, AgreementActivity, AgreementTransition, AgreementTranslation


class TransitionInline(admin.TabularInline):
    model = AgreementTransition
    extra = 0
    can_delete = False
    readonly_fields = ("move", "from_status", "to_status", "actor", "comment", "details", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ActivityInline(admin.TabularInline):
    model = AgreementActivity
    extra = 0
    readonly_fields = ("author", "created_at")


class TranslationInline(admin.TabularInline):
    model = AgreementTranslation
    extra = 0
    fields = ("language", "title", "summary", "translated_by", "updated_at")
    readonly_fields = ("translated_by", "updated_at")


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "initiator", "partner", "signed_on", "end_date", "updated_at")
    list_filter = ("status", "kind", "initiator__country", "partner__country")
    list_select_related = ("initiator", "partner")
    search_fields = ("title", "initiator__name", "partner__name", "source")
    autocomplete_fields = ("initiator", "partner")
    filter_horizontal = ("topics",)
    # Status, approvals and signing change only through the moves (pages, API, tasks), never by hand.
    readonly_fields = (
        "status",
        "signed_on",
        "memorandum_download",
        "initiator_country_approved_by",
        "initiator_country_approved_at",
        "partner_country_approved_by",
        "partner_country_approved_at",
        "renewal_end_date",
        "renewal_confirmed_by_initiator",
        "renewal_confirmed_by_partner",
        "created_by",
        "created_at",
    )
    exclude = ("memorandum",)
    inlines = [TransitionInline, ActivityInline, TranslationInline]

    actions = ["expire_due"]

    @admin.action(description=_("Expire the selected agreements whose term is over"))
    def expire_due(self, request: HttpRequest, queryset: QuerySet[Agreement]) -> None:
        expired = services.expire_due_agreements(among=queryset)
        self.message_user(request, _("%(count)d agreements expired.") % {"count": expired}, messages.SUCCESS)

    @admin.display(description=_("signed memorandum"))
    def memorandum_download(self, agreement: Agreement) -> str:
        # The stored file is never published under /media/: link to the view that checks visibility.
        if not agreement.memorandum:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("partnerships:memorandum", args=[agreement.pk]), _("Download")
        )
