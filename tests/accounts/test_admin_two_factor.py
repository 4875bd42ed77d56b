"""All of admin behind two factors (security review, finding 3): a password alone shows staff
nothing of admin, superusers included."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_site import ADMIN_SET_UP_TWO_FACTOR, ADMIN_SIGN_IN_WITH_CODE, StaffAdminSite
from tests.accounts.factories import PASSWORD, StaffUserFactory
from tests.accounts.test_mfa import code_from_secret
from tests.conftest import current_totp_code, verify_two_factor, with_authenticator

SETUP = reverse("accounts:mfa_setup")


def admin_urls() -> list[str]:
    """The index, each app's index and every registered model's changelist."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
    return sorted(set(urls))


def text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_admin_site__is_the_two_factor_site():
    assert isinstance(admin.site._wrapped, StaffAdminSite) or isinstance(admin.site, StaffAdminSite)
    assert len(admin_urls()) > 6


@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "superuser"])
def test_staff_without_a_device__every_admin_page_sends_to_setup(superuser, client, account):
    staff = StaffUserFactory(is_superuser=superuser)
    client.force_login(staff)  # the password, nothing else
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == f"{SETUP}?next={url.replace('/', '%2F')}", url
    assert account.name not in text(client.get(reverse("admin:accounts_account_changelist")))
    setup = client.get(SETUP)
    assert str(ADMIN_SET_UP_TWO_FACTOR) in text(setup)


@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "superuser"])
def test_staff_with_a_device_but_no_code__signed_out_to_sign_in_with_it(superuser, client, db):
    staff = with_authenticator(StaffUserFactory(is_superuser=superuser))
    for url in admin_urls():
        client.force_login(staff)  # signed in without the code this session
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("accounts:login")), url
        assert "_auth_user_id" not in client.session
    response = client.get(reverse("admin:index"), follow=True)
    assert str(ADMIN_SIGN_IN_WITH_CODE) in text(response)


def test_verified_staff__see_admin(client, account):
    staff = with_authenticator(StaffUserFactory(is_superuser=True))
    client.force_login(staff)
    verify_two_factor(client, staff)
    for url in admin_urls():
        assert client.get(url).status_code == 200, url


def test_merchant__admin_is_403_not_a_redirect_loop(owner_client):
    assert owner_client.get(reverse("admin:index")).status_code == 403


def test_staff_set_up_from_admin__and_are_let_in(client, db, time_machine):
    """The way through: set up the app from the page admin sent them to, then back in."""
    staff = StaffUserFactory(is_superuser=True)
    client.force_login(staff)
    setup_url = client.get(reverse("admin:accounts_account_changelist")).url
    client.post(setup_url, {"current-password": PASSWORD})
    secret = client.get(setup_url).context["secret"]
    done = client.post(setup_url, {"code": code_from_secret(secret)})
    assert done.context["done_url"] == reverse("admin:accounts_account_changelist")
    assert client.get(reverse("admin:accounts_account_changelist")).status_code == 200


def test_staff_two_step_sign_in__reaches_admin(client, support_staff):
    response = client.post(
        reverse("accounts:login") + "?next=/admin/",
        {"username": support_staff.email, "password": PASSWORD},
    )
    response = client.post(response.url, {"code": current_totp_code(support_staff)})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert TOTPDevice.objects.filter(user=support_staff).count() == 1
