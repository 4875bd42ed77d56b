from django.conf import settings
from django.http import HttpRequest

from .context import context_of


def current_account(request: HttpRequest) -> dict:
    context = context_of(request)
    actor, account = context.actor, context.account
    # Only a member switches accounts; a representative is pinned to the one they entered.
    # The memberships came with the current one (CurrentAccountMiddleware): no query here.
    others = [] if actor is None or actor.is_representative else context.memberships
    return {
        "VENDOR_NAME": settings.VENDOR_NAME,
        "actor": actor,
        "current_account": account,
        "other_accounts": [m.account for m in others if m.account_id != account.pk],
    }
