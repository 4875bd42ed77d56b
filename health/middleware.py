from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import views

PROBES = {"/healthz": views.healthz, "/readyz": views.readyz}


class ProbeMiddleware:
    """Answer /healthz and /readyz ahead of every other middleware.

    So a probe never loads or sets a session cookie, is never redirected to https (load
    balancers probe the backend over plain http), and is not refused for probing by IP
    address rather than a name in ALLOWED_HOSTS. The answers hold nothing from the request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        # Anything else goes the whole way (CSRF, then the view's 405).
        return self.get_response(request)
