from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "practices"

    def ready(self) -> None:
        # Registers the e-mail events this app raises.
        from practices import events  # noqa: F401
