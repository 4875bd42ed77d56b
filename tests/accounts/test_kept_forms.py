"""Forms inside kept fragments (accounts/kept_forms.py): the fragment is rendered once and
served again, yet each page carries its own masked CSRF token, which the CSRF check takes."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.kept_forms import TOKEN_PLACEHOLDER
from tests.conftest import verify_two_factor

pytestmark = pytest.mark.django_db


def logout_token(html: str) -> str:
    form = html[html.index(f'action="{reverse("accounts:logout")}"') :]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)


def checked_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    verify_two_factor(client, user)
    return client


def test_a_kept_form_carries_this_pages_token_and_the_check_takes_it(owner):
    client = checked_client(owner)
    first = client.get(reverse("accounts:home")).content.decode()
    kept = client.get(reverse("accounts:home")).content.decode()  # the menu, as kept
    assert TOKEN_PLACEHOLDER not in first + kept
    assert logout_token(first) != logout_token(kept), "a fresh mask on every page"
    response = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": logout_token(kept)})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_form_without_a_token_is_still_refused(owner):
    client = checked_client(owner)
    client.get(reverse("accounts:home"))
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert "_auth_user_id" in client.session


def test_one_persons_kept_menu_never_carries_anothers_token(owner, admin, account):
    """Two people, two sessions: each page's token is made from its own session's secret."""
    owner_client, admin_client = checked_client(owner), checked_client(admin)
    owner_page = owner_client.get(reverse("accounts:home")).content.decode()
    admin_client.get(reverse("accounts:home"))
    response = admin_client.post(
        reverse("accounts:logout"), {"csrfmiddlewaretoken": logout_token(owner_page)}
    )
    assert response.status_code == 403
