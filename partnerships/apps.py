from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        # Registers the e-mail events this app raises.
        from partnerships import events  # noqa: F401
