"""A task that cannot be queued (broker down) never fails the request that queued it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audience.models import ImportJob

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_broker_down__starting_an_import_is_not_a_500(
    private_redis, use_redis, account, owner_client
):
    """The job is committed as queued; the import recovery picks it up once the broker is back."""
    account.plan = "pro"
    account.save(update_fields=["plan"])
    content = b"email,first_name\nada@example.com,Ada\n"
    response = owner_client.post(
        reverse("audience:import_upload"),
        {"file": SimpleUploadedFile("profiles.csv", content, "text/csv")},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    use_redis(private_redis.url)
    private_redis.stop()

    response = owner_client.post(reverse("audience:import_start", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
