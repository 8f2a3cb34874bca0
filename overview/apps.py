from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverviewConfig(AppConfig):
    """The map and the dashboards: read-only views across cities, partnerships (and later practices)."""

    name = "overview"
    verbose_name = _("Overview")
