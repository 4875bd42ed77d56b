"""The site's URLs plus two baselines (DESIGN §8), never in the production URLs:

- the fair baseline, a signed-in page that extends `base.html` with an empty body, through
  the same middleware, for the same user: what every page costs before it does anything of
  its own;
- the framework's floor, a view that answers "ok" to a request without a cookie through the
  same middleware: what Django costs before any page. (`/healthz` was that floor when the
  performance issue was filed; it now answers before any middleware, so that probes keep
  answering when sessions cannot load, and measures the WSGI server instead.)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from accounts.authorization import public, requires
from accounts.roles import Capability
from config.urls import urlpatterns as site_urlpatterns

EMPTY_PAGE = "/bench/empty/"
FLOOR = "/bench/floor/"


@requires(Capability.VIEW_ACCOUNT)
def empty_page(request: HttpRequest) -> HttpResponse:
    return render(request, "bench/empty.html")


@public
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path(EMPTY_PAGE.lstrip("/"), empty_page),
    path(FLOOR.lstrip("/"), floor),
    *site_urlpatterns,
]
