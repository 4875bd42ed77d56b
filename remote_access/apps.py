from django.apps import AppConfig


class RemoteAccessConfig(AppConfig):
    name = "remote_access"
    verbose_name = "Remote access"
