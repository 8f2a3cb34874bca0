from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from cities.api import CityViewSet, CountryViewSet, TopicViewSet
from matching.api import CitySuggestionsView
from partnerships.api import AgreementViewSet
from practices.api import PracticeViewSet


# No `.json`-style suffix routes: the format is the Accept header or `?format=`, and a suffix route
# would hand every action a `format` argument it does not take.
class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("countries", CountryViewSet, basename="country")
router.register("topics", TopicViewSet, basename="topic")
router.register("cities", CityViewSet, basename="city")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("practices", PracticeViewSet, basename="practice")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs' own script is a file (`docs/?script`), not inline, so script-src stays strict.
    # Swagger UI sets style attributes and a <style> element as it renders: inline styles, and
    # only there, are allowed. (Redoc is not served: it loads its logo from a CDN, which a
    # closed network cannot reach and the policy would refuse.)
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("cities/<int:pk>/suggestions/", CitySuggestionsView.as_view(), name="city-suggestions"),
    path("", include(router.urls)),
]
