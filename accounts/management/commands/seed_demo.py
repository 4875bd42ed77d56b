import base64
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import MemberActor
from accounts.models import Account, Membership, User
from accounts.roles import Role
from accounts.services.integrations import integration_create
from accounts.signals import demo_data_seeded

ACCOUNTS = {"Acme Store": "America/New_York", "Globex": "Europe/Berlin"}
MEMBERS = [
    ("owner@acme.test", "Olivia Owner", "Acme Store", Role.OWNER),
    ("admin@acme.test", "Adam Admin", "Acme Store", Role.ADMIN),
    ("manager@acme.test", "Maya Manager", "Acme Store", Role.MANAGER),
    ("analyst@acme.test", "Andy Analyst", "Acme Store", Role.ANALYST),
    ("owner@globex.test", "Greta Globex", "Globex", Role.OWNER),
]
# Demo staff sign in with two-factor, as all staff must: add this key to an authenticator app.
DEMO_STAFF_TOTP_KEY = "4c617463686b65792064656d6f2073746166662121"[:40]
STAFF = [
    ("support@latchkey.test", "Sam Support"),
    ("csm@latchkey.test", "Casey Success"),
]


class Command(BaseCommand):
    help = "Create the demo accounts and users (idempotent). Refuses to run with DEBUG off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default="demo", help="Password for every demo user.")
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    @transaction.atomic
    def handle(self, *args, password: str, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a known password; it runs only with DEBUG on. "
                "Pass --force if you really mean it."
            )
        accounts = {}
        for name, tz in ACCOUNTS.items():
            accounts[name], _ = Account.objects.get_or_create(name=name, defaults={"timezone": tz})
        for email, full_name, account_name, role in MEMBERS:
            user = self._user(email, full_name, password)
            Membership.objects.update_or_create(
                user=user, account=accounts[account_name], defaults={"role": role}
            )
        users = {
            user.email: user for user in User.objects.filter(email__in=[m[0] for m in MEMBERS])
        }
        for email, full_name in STAFF:
            users[email] = self._user(email, full_name, password, is_staff=True)
            TOTPDevice.objects.get_or_create(
                user=users[email],
                confirmed=True,
                defaults={"name": "Demo authenticator", "key": DEMO_STAFF_TOTP_KEY},
            )
        if not accounts["Acme Store"].integrations.exists():
            integration_create(
                account=accounts["Acme Store"],
                actor=MemberActor.for_membership(
                    user=users["owner@acme.test"], account=accounts["Acme Store"], role=Role.OWNER
                ),
                name="Acme Shopify store",
                store_url="https://acme-store.example",
                api_key="shpat_" + secrets.token_hex(16),
                webhook_secret="whsec_" + secrets.token_urlsafe(24),
            )
        demo_data_seeded.send(sender=self.__class__, users=users, password=password)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with any of these:"))
        for email, _full_name, account_name, role in MEMBERS:
            self.stdout.write(f"  {email:<24} {Role(role).label} of {account_name}")
        for email, _full_name in STAFF:
            self.stdout.write(f"  {email:<24} {settings.VENDOR_NAME} staff (admin at /admin/)")
        self.stdout.write(f"  password: {password}")
        demo_key = base64.b32encode(bytes.fromhex(DEMO_STAFF_TOTP_KEY)).decode()
        self.stdout.write(f"  staff two-factor key (add it to an authenticator app): {demo_key}")

    def _user(self, email: str, full_name: str, password: str, *, is_staff: bool = False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email)
        user.full_name = full_name
        user.is_staff = is_staff
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user
