from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from .checks import CHECKS


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness, for load balancers: the web process answers. Touches nothing else."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness, for monitoring and deploys: the database, the broker and beat all work.

    503 names each failing part. Not for the load balancer: the site serves pages, grants
    and sign-ins with the broker or beat down, so taking web processes out then would turn
    a partial outage into a full one.
    """
    problems = {name: check() for name, check in CHECKS.items()}
    failing = [name for name, problem in problems.items() if problem]
    body = {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "checks": {name: problem or "ok" for name, problem in problems.items()},
    }
    return JsonResponse(body, status=503 if failing else 200)
