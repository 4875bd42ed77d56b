"""Integrations and private API keys: the information a representative may never see."""

import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..actors import Actor
from ..authorization import require_capability
from ..crypto import decrypt, encrypt, token_hash
from ..errors import ApplicationError
from ..models import Account, ApiKey, ApiScope, Integration
from ..roles import Capability

API_KEY_PREFIX = "lk_"
UNKNOWN_SCOPE = _("Choose what the key may read from the list.")


def integration_create(
    *, account: Account, actor: Actor, name: str, store_url: str, api_key: str, webhook_secret: str
) -> Integration:
    require_capability(actor, account, Capability.MANAGE_INTEGRATIONS)
    return Integration.objects.create(
        account=account,
        name=name,
        store_url=store_url,
        api_key_encrypted=encrypt(api_key),
        webhook_secret_encrypted=encrypt(webhook_secret),
    )


def integration_secrets(*, integration: Integration) -> dict[str, str]:
    return {
        "api_key": decrypt(integration.api_key_encrypted),
        "webhook_secret": decrypt(integration.webhook_secret_encrypted),
    }


def mask(secret: str) -> str:
    return "•" * 8 + secret[-4:]


@transaction.atomic
def integration_rotate_webhook_secret(
    *, account: Account, actor: Actor, integration_id: int
) -> str:
    require_capability(actor, account, Capability.MANAGE_INTEGRATIONS)
    integration = Integration.objects.select_for_update().get(account=account, pk=integration_id)
    secret = "whsec_" + secrets.token_urlsafe(24)
    integration.webhook_secret_encrypted = encrypt(secret)
    integration.rotated_at = timezone.now()
    integration.save(update_fields=["webhook_secret_encrypted", "rotated_at"])
    return secret


@transaction.atomic
def api_key_create(
    *, account: Account, actor: Actor, label: str, scopes: Sequence[str] = ()
) -> tuple[ApiKey, str]:
    """Returns the key in full: the only time it exists outside its owner's hands."""
    require_capability(actor, account, Capability.MANAGE_INTEGRATIONS)
    unknown = set(scopes) - set(ApiScope.values)
    if unknown:
        raise ApplicationError(UNKNOWN_SCOPE, field="scopes")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        account=account,
        label=label,
        prefix=key[:10],
        key_hash=token_hash(key),
        created_by=actor.user,
        scopes=sorted(set(scopes)),
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, account: Account, actor: Actor, api_key_id: int) -> ApiKey:
    require_capability(actor, account, Capability.MANAGE_INTEGRATIONS)
    api_key = ApiKey.objects.select_for_update().get(account=account, pk=api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_check(*, key: str) -> ApiKey | None:
    """The live key matching `key`, for authenticating API calls."""
    return (
        ApiKey.objects.filter(key_hash=token_hash(key), revoked_at__isnull=True)
        .select_related("account")
        .first()
    )
