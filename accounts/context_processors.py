from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .context import context_of
from .selectors import user_memberships


def current_account(request: HttpRequest) -> dict:
    context = context_of(request)
    actor, account = context.actor, context.account

    def other_accounts() -> list:
        # Only a member switches accounts; a representative is pinned to the one they entered.
        if actor is None or actor.is_representative:
            return []
        return [
            m.account for m in user_memberships(user=request.user) if m.account_id != account.pk
        ]

    return {
        "VENDOR_NAME": settings.VENDOR_NAME,
        "actor": actor,
        "current_account": account,
        "other_accounts": SimpleLazyObject(other_accounts),
    }
