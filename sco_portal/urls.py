from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from accounts.forms import PasswordResetForm
from cities import views as city_views

urlpatterns = [
    path("", city_views.home, name="home"),
    path("cities/", include("cities.urls")),
    path("agreements/", include("partnerships.urls")),
    path("practices/", include("practices.urls")),
    # Before Django's own: the reset e-mail goes through the outbox.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("notifications/", include("notifications.urls")),
    path("", include("overview.urls")),
    path("matching/", include("matching.urls")),
    path("api/v1/", include(("sco_portal.api_urls", "api"))),
    path("admin/", admin.site.urls),
]

# Under /api/ errors are JSON ({"detail": ...}), elsewhere the HTML pages.
handler400 = "sco_portal.errors.bad_request"
handler403 = "sco_portal.errors.permission_denied"
handler404 = "sco_portal.errors.page_not_found"
handler500 = "sco_portal.errors.server_error"
