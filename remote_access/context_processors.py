from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .selectors import open_visit_for


def own_open_visit(request: HttpRequest) -> dict:
    """Staff pages in admin show the staff user's own open visit, with a way to end it; the
    query runs only when an admin template asks."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    if not request.path.startswith(reverse("admin:index")):
        return {}
    return {"own_open_visit": SimpleLazyObject(lambda: open_visit_for(user=user))}
