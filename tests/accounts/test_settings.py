import pytest
from django.urls import reverse

from accounts.views.general import SETTINGS_SAVED

URL = reverse("accounts:settings_general")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("owner", True), ("admin", True), ("manager", False), ("analyst", False)],
)
def test_settings_general__role_matrix(persona, allowed, request, client_for, account):
    user = request.getfixturevalue(persona)
    response = client_for(user).post(URL, {"name": "Acme Shop", "timezone": "Europe/Paris"})
    account.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert (account.name, account.timezone) == ("Acme Shop", "Europe/Paris")
    else:
        assert response.status_code == 403
        assert (account.name, account.timezone) == ("Acme Store", "America/New_York")


def test_settings_general__saves_and_says_so(owner_client, account):
    response = owner_client.post(
        URL, {"name": "  Acme Shop ", "timezone": "Asia/Tokyo"}, follow=True
    )
    assert str(SETTINGS_SAVED) in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Acme Shop"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "timezone": "UTC"}, "name", "Give the account a name."),
        ({"name": "   ", "timezone": "UTC"}, "name", "Give the account a name."),
        ({"name": "Acme", "timezone": "Mars/Olympus"}, "timezone", "is not a time zone name"),
        ({"name": "Acme", "timezone": ""}, "timezone", "This field is required."),
        ({"name": "x" * 101, "timezone": "UTC"}, "name", "at most 100 characters"),
    ],
)
def test_settings_general__bad_input_changes_nothing(owner_client, account, data, field, message):
    response = owner_client.post(URL, data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    account.refresh_from_db()
    assert (account.name, account.timezone) == ("Acme Store", "America/New_York")
    # The sidebar still shows the saved name, not the rejected one.
    assert response.context["current_account"].name == "Acme Store"


def test_settings_general__read_only_for_analyst(analyst, client_for):
    response = client_for(analyst).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Only Owners and Admins can change these settings." in body
    assert all(field.disabled for field in response.context["form"].fields.values())


def test_settings_team__lists_members_with_roles(owner_client, admin, analyst, other_owner):
    response = owner_client.get(reverse("accounts:settings_team"))
    body = response.content.decode()
    assert "Adam Admin" in body
    assert "Analyst" in body
    assert "Greta Globex" not in body


def test_currency__saved_and_shown_with_amounts(owner_client, account):
    """The store's currency is a setting; a profile's total spent is shown with it."""
    from audience.models import Profile

    response = owner_client.post(
        reverse("accounts:settings_general"),
        {"name": "Acme Store", "timezone": "UTC", "currency": "EUR"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.currency == "EUR"
    Profile.objects.create(account=account, email="a@b.co", total_spent="1234.50")
    page = owner_client.get(reverse("audience:profiles")).content.decode()
    assert "1,234.50 <abbr" in page
    assert ">EUR</abbr>" in page


def test_currency__unknown_code_is_a_form_error(owner_client, account):
    response = owner_client.post(
        reverse("accounts:settings_general"),
        {"name": "Acme Store", "timezone": "UTC", "currency": "XXX"},
    )
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.currency == "USD"
