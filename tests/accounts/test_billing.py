import pytest
from django.urls import reverse

from accounts.models import PlanChange
from tests.audience.factories import ProfileFactory


def change_url(plan):
    return reverse("accounts:billing_change", args=[plan])


def text(response):
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("owner", True), ("admin", True), ("manager", False), ("analyst", False)],
)
def test_change_plan__role_matrix(persona, allowed, request, client_for, account):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(change_url("pro")).status_code == (200 if allowed else 403)
    response = client.post(change_url("pro"))
    account.refresh_from_db()
    assert response.status_code == (302 if allowed else 403)
    assert account.plan == ("pro" if allowed else "free")
    assert PlanChange.objects.filter(account=account).exists() is allowed


def test_change_plan__confirmation_states_the_change(owner_client):
    body = text(owner_client.get(change_url("growth")))
    assert "Upgrade to Growth?" in body
    assert "Free · $0 / month · up to 1,000 profiles" in body
    assert "Growth · $49 / month · up to 25,000 profiles" in body


def test_downgrade__refused_below_the_profile_count_with_numbers(owner_client, account):
    account.plan = "growth"
    account.save()
    ProfileFactory.create_batch(1002, account=account)
    response = owner_client.post(change_url("free"), follow=True)
    assert "You have 1,002 profiles; the Free plan allows 1,000. Delete 2 profiles first" in text(
        response
    )
    account.refresh_from_db()
    assert account.plan == "growth"


def test_change_plan__unknown_plan_is_404(owner_client, account):
    assert owner_client.post(change_url("platinum")).status_code == 404
    account.refresh_from_db()
    assert account.plan == "free"


def test_billing_tab__shows_plans_and_history_to_every_member(owner_client, analyst, client_for):
    owner_client.post(change_url("pro"))
    body = text(client_for(analyst).get(reverse("accounts:settings_billing")))
    assert "You are on the <strong>Pro</strong> plan." in body
    assert "Free → Pro" in body
    assert "Only Owners and Admins can change the plan." in body
    assert "Switch to" not in body
