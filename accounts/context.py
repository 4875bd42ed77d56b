"""What the middlewares learn about a request, in one typed object: `request.latchkey`.

`context_of(request)` makes it on first use; two middlewares fill it in, in this order
(config/settings/base.py MIDDLEWARE):

1. `remote_access.middleware.RepresentativeMiddleware`, during a support visit: `actor` (a
   representative), `account` and `visit`.
2. `accounts.middleware.CurrentAccountMiddleware`, otherwise: `actor` (a member),
   `account`, `mfa_setup_required`, and `memberships` (for the account menu), all from one
   query.

Views read it and add two things for the audit of a representative's POST:
`action_summary` (what the change did, in plain words) and `audited` (False for a request that
writes its own history row, such as leaving the account).
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from .actors import Actor
    from .models import Account


@dataclass
class RequestContext:
    actor: "Actor | None" = None
    account: "Account | None" = None
    # The visit (remote_access.RepresentativeSession) this request belongs to, if any. Typed
    # loosely because accounts never imports remote_access.
    visit: Any = None
    mfa_setup_required: bool = False
    # All of the member's memberships, for the account menu (fetched with the current one).
    memberships: list = field(default_factory=list)
    action_summary: str | None = None
    audited: bool = True


def context_of(request: HttpRequest) -> RequestContext:
    """The request's context; one is made for requests that never went through the
    middleware (tests calling views directly, error handlers)."""
    context = getattr(request, "latchkey", None)
    if context is None:
        context = request.latchkey = RequestContext()
    return context
