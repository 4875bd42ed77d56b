from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Liveness and readiness for operators. Imports no other app of the project."""

    name = "health"
    default_auto_field = "django.db.models.BigAutoField"
