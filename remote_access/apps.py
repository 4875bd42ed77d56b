from django.apps import AppConfig


class RemoteAccessConfig(AppConfig):
    name = "remote_access"
    verbose_name = "Remote access"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the signal receivers
