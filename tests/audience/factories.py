import factory
from factory.django import DjangoModelFactory

from audience.models import ImportChunk, ImportJob, ImportRejection, Profile, Segment
from tests.accounts.factories import AccountFactory, UserFactory


class ProfileFactory(DjangoModelFactory[Profile]):
    class Meta:
        model = Profile

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    country = "US"
    total_spent = 0


class SegmentFactory(DjangoModelFactory[Segment]):
    class Meta:
        model = Segment

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    conditions = factory.LazyFunction(
        lambda: [{"field": "total_spent", "operator": "gte", "value": "100"}]
    )


class ImportJobFactory(DjangoModelFactory[ImportJob]):
    class Meta:
        model = ImportJob
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    created_by = factory.SubFactory(UserFactory)
    file_name = "profiles.csv"
    mapping = factory.LazyFunction(lambda: {"email": "email"})
    total_rows = 1

    @factory.post_generation
    def file(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy's signature
        if create:
            ImportChunk.objects.create(job=obj, seq=0, data=extracted or b"email\na@example.com\n")


class ImportRejectionFactory(DjangoModelFactory[ImportRejection]):
    class Meta:
        model = ImportRejection

    job = factory.SubFactory(ImportJobFactory)
    line = 2
    reason = "no email"
