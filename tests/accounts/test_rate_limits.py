from django.urls import reverse

from remote_access.models import RemoteAccessGrant, RepresentativeSession
from tests.accounts.factories import PASSWORD
from tests.remote_access.factories import GrantFactory

LOGIN = reverse("accounts:login")


def text(response):
    return response.content.decode().replace("&#x27;", "'")


def test_login__locked_after_five_failures_even_with_the_right_password(owner, client):
    for _ in range(5):
        assert client.post(LOGIN, {"username": owner.email, "password": "guess"}).status_code == 200
    response = client.post(LOGIN, {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes" in text(response)
    assert 'value="owner@acme.test"' in text(response)
    assert "_auth_user_id" not in client.session


def test_login__lockout_ends_after_fifteen_minutes(owner, client, time_machine):
    import datetime as dt

    from django.utils import timezone

    start = timezone.now()
    time_machine.move_to(start, tick=False)
    for _ in range(5):
        client.post(LOGIN, {"username": owner.email, "password": "guess"})
    time_machine.move_to(start + dt.timedelta(minutes=14), tick=False)
    assert client.post(LOGIN, {"username": owner.email, "password": PASSWORD}).status_code == 429
    time_machine.move_to(start + dt.timedelta(minutes=16), tick=False)
    assert client.post(LOGIN, {"username": owner.email, "password": PASSWORD}).status_code == 302


def test_login__other_people_unaffected_by_someone_elses_failures(owner, admin, client):
    for n in range(5):
        client.post(
            LOGIN, {"username": owner.email, "password": "guess"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
    response = client.post(
        LOGIN, {"username": admin.email, "password": PASSWORD}, REMOTE_ADDR="10.0.1.1"
    )
    assert response.status_code == 302


def test_grant_remove_burst__429_with_a_clear_message(owner_client, account):
    statuses = [
        owner_client.post(reverse("remote_access:security"), {"duration": "1d"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    response = owner_client.post(reverse("remote_access:security"), {"duration": "1d"})
    assert "Wait a minute and try again." in text(response)
    assert RemoteAccessGrant.objects.filter(account=account, status="active").count() == 1


def test_enter_account_burst__429(support_staff, client_for, account, owner):
    GrantFactory(account=account, granted_by=owner)
    client = client_for(support_staff)
    url = reverse("admin:accounts_account_enter", args=[account.pk])
    statuses = [client.post(url, {"ticket_reference": ""}).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    assert not RepresentativeSession.objects.exists()
