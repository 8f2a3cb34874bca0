from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and roles")

    def ready(self) -> None:
        from accounts import (
            events,  # noqa: F401  (registers the account e-mails)
            schema,  # noqa: F401  (registers the API-key scheme with drf-spectacular)
        )
