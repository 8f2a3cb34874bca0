from django.contrib import admin
from django.urls import include, path

from cities import views as city_views

urlpatterns = [
    path("", city_views.home, name="home"),
    path("cities/", include("cities.urls")),
    path("agreements/", include("partnerships.urls")),
    path("practices/", include("practices.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include(("sco_portal.api_urls", "api"))),
    path("admin/", admin.site.urls),
]
