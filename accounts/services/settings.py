from django.db import transaction

from ..actors import Actor
from ..models import Account


@transaction.atomic
def account_update_settings(*, account: Account, actor: Actor, name: str, timezone: str) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.name = name
    account.timezone = timezone
    account.full_clean()
    account.save(update_fields=["name", "timezone"])
    return account
