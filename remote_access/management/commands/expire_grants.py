from django.core.management.base import BaseCommand

from remote_access.services import grants_expire_due


class Command(BaseCommand):
    help = "Expire overdue support-access grants now: the same work as the beat task, for cron."

    def handle(self, *args, **options) -> None:
        expired = grants_expire_due()
        self.stdout.write(f"Expired {expired} grant(s).")
