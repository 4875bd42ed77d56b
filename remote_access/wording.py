"""Small phrases that history rows, mails and pages share, so each is worded once."""

from django.utils.translation import gettext as _

from .models import Scope


def scope_phrase(scope: str) -> str:
    """How history and mail name a grant's scope; "full" is the default and says nothing."""
    return _(", view only") if scope == Scope.VIEW_ONLY else ""


def ticket_label(reference: str) -> str:
    """ "#4411" for a number, the reference as typed otherwise."""
    return f"#{reference}" if reference.isdigit() else reference
