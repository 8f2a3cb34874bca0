from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from cities.api import CityViewSet, CountryViewSet, TopicViewSet
from matching.api import CitySuggestionsView
from partnerships.api import AgreementViewSet
from practices.api import PracticeViewSet

router = DefaultRouter()
router.register("countries", CountryViewSet, basename="country")
router.register("topics", TopicViewSet, basename="topic")
router.register("cities", CityViewSet, basename="city")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("practices", PracticeViewSet, basename="practice")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("cities/<int:pk>/suggestions/", CitySuggestionsView.as_view(), name="city-suggestions"),
    path("", include(router.urls)),
]
