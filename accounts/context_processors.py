from django.conf import settings
from django.http import HttpRequest

from .context import context_of
from .roles import Capability

# The main menu's sections, by the start of the path; the first that matches is current.
NAV_SECTIONS = (
    ("segments", "/audience/segments/"),
    ("import", "/audience/import"),
    ("settings", "/settings/"),
    ("help", "/help/"),
)
NAV_EXACT = {"/": "home", "/audience/": "profiles"}


def nav_section(path: str) -> str:
    """Which entry of the main menu the page belongs to ("" for none): the menu marks it
    with aria-current, and the rendered menu is kept per section (templates/base.html)."""
    if path in NAV_EXACT:
        return NAV_EXACT[path]
    return next((name for name, start in NAV_SECTIONS if path.startswith(start)), "")


def current_account(request: HttpRequest) -> dict:
    context = context_of(request)
    actor, account = context.actor, context.account
    # Only a member switches accounts; a representative is pinned to the one they entered.
    # The memberships came with the current one (CurrentAccountMiddleware): no query here.
    others = [] if actor is None or actor.is_representative else context.memberships
    other_accounts = [m.account for m in others if m.account_id != account.pk]
    return {
        "VENDOR_NAME": settings.VENDOR_NAME,
        "actor": actor,
        "current_account": account,
        "other_accounts": other_accounts,
        # The account menu's key names the accounts it lists (templates/base.html).
        "menu_accounts": " ".join(f"{other.pk}:{other.name}" for other in other_accounts),
        "nav_section": nav_section(request.path),
        "can_import": actor is not None and actor.can(Capability.IMPORT_DATA),
        "can_manage_integrations": actor is not None and actor.can(Capability.MANAGE_INTEGRATIONS),
    }
