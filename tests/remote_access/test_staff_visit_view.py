"""Staff side: the banner shows the ticket and time left; the admin lists visits with
what happened in each."""

from django.test import Client
from django.urls import reverse

from tests.conftest import verify_two_factor
from tests.remote_access.factories import GrantFactory


def test_banner__ticket_and_time_left(account, owner, support_staff, client_for):
    GrantFactory(account=account, granted_by=owner)
    staff = client_for(support_staff)
    staff.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "4411"}
    )
    body = staff.get("/settings/").content.decode()
    assert "ticket 4411" in body
    assert "hours from now)" in body  # the time left, as the Security tab writes it


def test_admin_visit_list__ticket_duration_pages_changes_refusals(
    account, owner, support_staff, client_for
):
    GrantFactory(account=account, granted_by=owner)
    staff = client_for(support_staff)
    staff.post(
        reverse("admin:accounts_account_enter", args=[account.pk]), {"ticket_reference": "4411"}
    )
    staff.get("/settings/")
    staff.get("/audience/segments/")
    staff.post("/settings/", {"name": "Acme Shop", "timezone": "UTC"})
    staff.post("/settings/billing/change/pro/")
    staff.post(reverse("remote_access:representative_exit"))
    superuser_client = Client()
    support_staff.is_superuser = True
    support_staff.save(update_fields=["is_superuser"])
    superuser_client.force_login(support_staff)
    verify_two_factor(superuser_client, support_staff)
    response = superuser_client.get(reverse("admin:remote_access_representativesession_changelist"))
    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.ticket_reference, row.pages_opened, row.changes, row.refusals) == ("4411", 2, 1, 1)
    assert "0 min" in response.content.decode()
