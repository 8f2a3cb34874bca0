from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("Partner matching")

    def ready(self) -> None:
        # Cities, partnerships and practices report changes to their cities through
        # sco_portal.changes without knowing who listens; matching recomputes those cities.
        from matching import services
        from sco_portal import changes

        changes.subscribe(services.recompute_changed_cities)
