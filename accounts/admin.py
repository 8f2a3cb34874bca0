from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import UserChangeForm
from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    list_display = ("username", "email", "role", "city", "country", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active", "country")
    list_select_related = ("city", "country")
    autocomplete_fields = ("city", "country")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Role in the portal"), {"fields": ("role", "city", "country", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Role in the portal"), {"fields": ("role", "city", "country", "language")}),
    )
