from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Durable mail: rows written with the change they report, delivered by workers.

    The lowest layer: it imports only Django and Celery. Apps that write mail import it.
    """

    name = "outbox"
    verbose_name = "Mail outbox"
