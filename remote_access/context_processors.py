from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.backends import read_with_user_results
from accounts.context import context_of
from accounts.http import in_staff_admin

from .selectors import open_visit_for, visits_inside


def own_open_visit(request: HttpRequest) -> dict:
    """Staff pages in admin show the staff user's own open visit, with a way to end it; the
    query runs only when an admin template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    if not in_staff_admin(request):
        return {}
    return {"own_open_visit": SimpleLazyObject(lambda: open_visit_for(user=user))}


def support_inside(request: HttpRequest) -> dict:
    """The visits going on in the member's account, for the live notice on every merchant
    page (remote_access/_visit_notice.html): read with the signed-in user (no query of its
    own), else one query when a page shows it."""
    context = context_of(request)
    if context.actor is None or context.actor.is_representative or context.account is None:
        return {"support_inside": ()}
    account, read = context.account, read_with_user_results(request.user)
    return {
        "support_inside": SimpleLazyObject(
            lambda: visits_inside(account=account, read_with_user=read)
        )
    }
