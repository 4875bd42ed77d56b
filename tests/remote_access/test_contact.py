import pytest
from django.urls import reverse

from remote_access.events import describe
from remote_access.models import RemoteAccessGrant, SupportRequest
from tests.remote_access.factories import GrantFactory, SupportRequestFactory

CONTACT = reverse("remote_access:contact")
MESSAGE = {"team": "support", "subject": "Segment count is off", "message": "VIP shows 0."}


@pytest.mark.parametrize(("persona", "allowed"), [("owner", True), ("admin", True)])
def test_contact__request_with_grant_in_one_go(persona, allowed, request, client_for, account):
    response = client_for(request.getfixturevalue(persona)).post(
        CONTACT, {**MESSAGE, "duration": "7d"}
    )
    support_request = SupportRequest.objects.get(account=account)
    assert response.url == reverse("remote_access:contact_sent", args=[support_request.pk])
    grant = RemoteAccessGrant.objects.get(account=account)
    assert grant.support_request == support_request
    assert grant.source == RemoteAccessGrant.Source.SUPPORT_REQUEST
    assert describe(account.access_events.get()).endswith(
        f"with support request #{support_request.pk}"
    )


def test_contact__dont_grant_is_the_default(owner_client, account):
    body = owner_client.get(CONTACT).content.decode()
    assert "Grant Latchkey access" in body
    assert "checked" in body.split("Don&#x27;t grant")[0].rsplit("<label", 1)[1]
    owner_client.post(CONTACT, {**MESSAGE, "duration": ""})
    assert SupportRequest.objects.filter(account=account).count() == 1
    assert not RemoteAccessGrant.objects.exists()


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_contact__others_see_a_note_and_may_send_without_grant(
    persona, request, client_for, account
):
    client = client_for(request.getfixturevalue(persona))
    body = client.get(CONTACT).content.decode()
    assert "Only Owners and Admins can grant support access" in body
    assert 'name="duration"' not in body
    assert client.post(CONTACT, MESSAGE).status_code == 302
    assert SupportRequest.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("persona", ["manager", "analyst"])
def test_contact__forged_grant_from_others_is_403_and_creates_nothing(
    persona, request, client_for, account
):
    response = client_for(request.getfixturevalue(persona)).post(
        CONTACT, {**MESSAGE, "duration": "90d"}
    )
    assert response.status_code == 403
    assert not SupportRequest.objects.exists()
    assert not RemoteAccessGrant.objects.exists()


def test_contact__bad_custom_date_keeps_everything_typed(owner_client, account):
    response = owner_client.post(
        CONTACT, {**MESSAGE, "duration": "custom", "last_day": "1999-01-01"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "from tomorrow on" in body
    assert 'value="Segment count is off"' in body
    assert "VIP shows 0." in body
    assert 'value="1999-01-01"' in body
    assert not SupportRequest.objects.exists()


def test_contact__missing_fields_are_form_errors(owner_client):
    response = owner_client.post(CONTACT, {"team": "nope", "duration": "7d"})
    errors = response.context["form"].errors
    assert set(errors) == {"team", "subject", "message"}
    assert not SupportRequest.objects.exists()
    assert not RemoteAccessGrant.objects.exists()


def test_contact__grant_conflict_rolls_back_the_request_and_keeps_text(
    owner_client, account, owner
):
    """Request and grant are one transaction: if the grant cannot be made, neither is."""
    GrantFactory(account=account, granted_by=owner)
    response = owner_client.post(CONTACT, {**MESSAGE, "duration": "7d", "current_grant": ""})
    assert response.status_code == 400
    assert "changed while you were on this page" in response.content.decode()
    assert "VIP shows 0." in response.content.decode()
    assert not SupportRequest.objects.exists()
    assert RemoteAccessGrant.objects.get().duration == "7d"


def test_contact__turned_off_account_cannot_grant(owner_client, account):
    account.remote_access_disabled = True
    account.save()
    assert 'name="duration"' not in owner_client.get(CONTACT).content.decode()
    assert owner_client.post(CONTACT, {**MESSAGE, "duration": "7d"}).status_code == 403
    assert not RemoteAccessGrant.objects.exists()


def test_contact_sent__shows_number_and_access_status(owner_client, account, owner):
    support_request = SupportRequestFactory(account=account, requested_by=owner)
    GrantFactory(account=account, granted_by=owner, support_request=support_request)
    body = owner_client.get(
        reverse("remote_access:contact_sent", args=[support_request.pk])
    ).content.decode()
    assert f"Request #{support_request.pk} sent" in body
    assert "Access is on" in body


def test_contact_sent__other_accounts_request_is_404(owner_client, other_account, other_owner):
    foreign = SupportRequestFactory(account=other_account, requested_by=other_owner)
    assert (
        owner_client.get(reverse("remote_access:contact_sent", args=[foreign.pk])).status_code
        == 404
    )
