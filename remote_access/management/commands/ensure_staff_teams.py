from django.core.management.base import BaseCommand

from remote_access.services.staff import staff_teams_ensure


class Command(BaseCommand):
    help = "Create the Support, Onboarding and Success staff groups with their permissions."

    def handle(self, *args, **options) -> None:
        teams = staff_teams_ensure()
        self.stdout.write(f"Staff teams ready: {', '.join(teams)}.")
