from django import template

from ..context import context_of
from ..models import Membership

register = template.Library()


@register.inclusion_tag("accounts/_visit_mails_form.html", takes_context=True)
def visit_mails_toggle(context) -> dict:
    """The member's own "mail me when support enters" switch, for the current account."""
    latchkey = context_of(context["request"])
    actor = latchkey.actor
    if actor is None or actor.is_representative:
        return {"membership": None}
    membership = Membership.objects.filter(user=actor.user, account=latchkey.account).first()
    return {
        "membership": membership,
        "csrf_token": context.get("csrf_token"),
        "VENDOR_NAME": context.get("VENDOR_NAME"),
    }
