import datetime as dt
import random
from decimal import Decimal

from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Account
from accounts.signals import demo_data_seeded

from .models import Profile, Segment

DEMO_PROFILES = 500


@receiver(demo_data_seeded, dispatch_uid="audience.seed_demo_audience")
def seed_demo_audience(sender, users, **kwargs) -> None:
    """500 made-up profiles and two segments in Acme Store, the same ones on every run."""
    account = Account.objects.get(name="Acme Store")
    rng = random.Random(4411)  # noqa: S311 - demo data, not security
    first = ["Ava", "Ben", "Chloe", "Dan", "Ella", "Finn", "Grace", "Hugo", "Iris", "Jack"]
    last = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Silva", "Kim", "Nowak", "Ito"]
    countries = ["US", "GB", "DE", "FR", "IT", "ES", "BR", "JP", "CA", "NL"]
    now = timezone.now()
    profiles = [
        Profile(
            account=account,
            email=f"customer{n:03d}@example.com",
            first_name=rng.choice(first),
            last_name=rng.choice(last),
            country=rng.choice(countries),
            total_spent=Decimal(rng.randint(0, 200_000)) / 100,
            created_at=now - dt.timedelta(days=rng.randint(0, 720)),
            properties={
                "tier": rng.choice(["bronze", "silver", "gold"]),
                "newsletter": rng.choice(["yes", "no"]),
            },
        )
        for n in range(DEMO_PROFILES)
    ]
    Profile.objects.bulk_create(profiles, ignore_conflicts=True)
    Segment.objects.get_or_create(
        account=account,
        name="VIP customers",
        defaults={
            "match": "all",
            "conditions": [
                {"field": "total_spent", "operator": "gte", "value": "1000"},
                {"field": "properties.tier", "operator": "equals", "value": "gold"},
            ],
        },
    )
    Segment.objects.get_or_create(
        account=account,
        name="Europe",
        defaults={
            "match": "any",
            "conditions": [
                {"field": "country", "operator": "equals", "value": value}
                for value in ("DE", "FR", "IT", "ES", "NL", "GB")
            ],
        },
    )
