import factory
from factory.django import DjangoModelFactory

from accounts.models import Account, Membership, User
from accounts.roles import Role

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class StaffUserFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@latchkey.test")
    is_staff = True


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Store {n}")
    timezone = "UTC"


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Role.OWNER


def owner_actor(account: Account):
    """An Owner of `account` as services see one (the user is made up for the occasion)."""
    from accounts.actors import MemberActor

    return MemberActor.for_membership(user=UserFactory(), account=account, role=Role.OWNER)
