from django.db import models


class Heartbeat(models.Model):
    """When a periodic process last showed it was alive: one row per process name."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
