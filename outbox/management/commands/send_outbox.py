from django.core.management.base import BaseCommand

from outbox.services import outbox_drain


class Command(BaseCommand):
    help = "Send the mail waiting in the outbox now: the same work as beat's drain, for cron."

    def handle(self, *args, **options) -> None:
        delivery = outbox_drain()
        self.stdout.write(
            f"Sent {delivery.sent}, will retry {delivery.retrying}, failed {delivery.failed}, "
            f"nobody to send to {delivery.skipped}."
        )
        if delivery.server_down:
            self.stderr.write(
                "The mail server could not be reached; the rest waits for the next run."
            )
