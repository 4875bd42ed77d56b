import logging

import pytest
from django.urls import reverse

from accounts.models import ApiKey, Integration
from accounts.services.integrations import api_key_check, integration_create
from tests.accounts.factories import owner_actor

PAGE = reverse("accounts:settings_integrations")
STORE_KEY = "shpat_0123456789abcdefSECRET"
HOOK_SECRET = "whsec_SuperSecretHookValue"


@pytest.fixture
def integration(account):
    return integration_create(
        account=account,
        actor=owner_actor(account),
        name="Acme Shopify store",
        store_url="https://acme.example",
        api_key=STORE_KEY,
        webhook_secret=HOOK_SECRET,
    )


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("owner", True), ("admin", True), ("manager", False), ("analyst", False)],
)
def test_integrations__role_matrix(persona, allowed, request, client_for, integration):
    client = client_for(request.getfixturevalue(persona))
    response = client.get(PAGE)
    assert response.status_code == (200 if allowed else 403)
    assert ("Acme Shopify store" in response.content.decode()) is allowed
    response = client.post(reverse("accounts:api_key_create"), {"label": "Sync"})
    assert ApiKey.objects.exists() is allowed
    reveal = client.post(reverse("accounts:integration_reveal", args=[integration.pk]))
    assert (STORE_KEY in reveal.content.decode()) is allowed


def test_integration_secrets__encrypted_at_rest_masked_until_asked(owner_client, integration):
    stored = Integration.objects.values_list("api_key_encrypted", "webhook_secret_encrypted").get()
    assert STORE_KEY not in "".join(stored)
    assert HOOK_SECRET not in "".join(stored)
    page = owner_client.get(PAGE)
    body = page.content.decode()
    assert STORE_KEY not in body
    assert "••••••••CRET" in body
    assert page["Cache-Control"].startswith("max-age=0")
    revealed = owner_client.post(reverse("accounts:integration_reveal", args=[integration.pk]))
    assert STORE_KEY in revealed.content.decode()
    assert HOOK_SECRET in revealed.content.decode()


def test_rotate_webhook_secret__new_one_shown_old_gone(owner_client, integration):
    response = owner_client.post(reverse("accounts:integration_rotate", args=[integration.pk]))
    body = response.content.decode()
    assert HOOK_SECRET not in body
    assert "whsec_" in body
    integration.refresh_from_db()
    assert integration.rotated_at is not None


def test_api_key__shown_once_then_only_its_prefix(owner_client, account, caplog):
    caplog.set_level(logging.DEBUG)
    response = owner_client.post(reverse("accounts:api_key_create"), {"label": "Warehouse sync"})
    key = response.context["new_key"]
    assert key.startswith("lk_")
    assert key in response.content.decode()
    stored = ApiKey.objects.get()
    assert stored.key_hash != key
    assert key not in str(ApiKey.objects.values().get())
    assert api_key_check(key=key) == stored
    later = owner_client.get(PAGE).content.decode()
    assert key not in later
    assert stored.prefix in later
    assert key not in caplog.text


def test_api_key__revoke_stops_it_and_foreign_id_is_404(
    owner_client, other_owner, other_account, client_for
):
    response = owner_client.post(reverse("accounts:api_key_create"), {"label": "Sync"})
    key = response.context["new_key"]
    api_key = ApiKey.objects.get()
    foreign = client_for(other_owner).post(reverse("accounts:api_key_revoke", args=[api_key.pk]))
    assert foreign.status_code == 404
    assert api_key_check(key=key) is not None
    owner_client.force_login(api_key.created_by)
    owner_client.post(reverse("accounts:api_key_revoke", args=[api_key.pk]))
    assert api_key_check(key=key) is None


def test_api_key__label_required(owner_client):
    response = owner_client.post(reverse("accounts:api_key_create"), {"label": ""})
    assert response.status_code == 400
    assert "Give the key a label" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_integrations_tab__hidden_from_those_who_cannot_see_it(analyst, owner, client_for):
    assert "Integrations" not in client_for(analyst).get("/settings/").content.decode()
    assert "Integrations" in client_for(owner).get("/settings/").content.decode()
