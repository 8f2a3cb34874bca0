from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitiesConfig(AppConfig):
    name = "cities"
    verbose_name = _("Countries and cities")

    def ready(self) -> None:
        # Registers the e-mail events this app raises.
        from cities import events  # noqa: F401
