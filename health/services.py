from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"


def heartbeat_record(*, name: str = BEAT) -> None:
    """Write that `name` is alive now; one upsert, safe when two run at once."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )
