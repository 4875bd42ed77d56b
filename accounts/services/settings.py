from django.db import transaction

from ..actors import Actor
from ..authorization import require_capability
from ..models import Account
from ..roles import Capability


@transaction.atomic
def account_update_settings(
    *, account: Account, actor: Actor, name: str, timezone: str, currency: str | None = None
) -> Account:
    require_capability(actor, account, Capability.EDIT_SETTINGS)
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.name = name
    account.timezone = timezone
    account.currency = currency or account.currency
    account.full_clean()
    account.save(update_fields=["name", "timezone", "currency"])
    return account
