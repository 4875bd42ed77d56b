from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "audience"
    verbose_name = "Audience"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the signal receivers
