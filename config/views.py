from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and uptime checks: the web process answers. Touches nothing else."""
    return HttpResponse("ok", content_type="text/plain")
