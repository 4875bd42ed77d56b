"""The site's URLs plus the fair baseline (DESIGN §8): a signed-in page that extends
`base.html` with an empty body, through the same middleware, for the same user — what every
page costs before it does anything of its own."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from accounts.authorization import requires
from accounts.roles import Capability
from config.urls import urlpatterns as site_urlpatterns

EMPTY_PAGE = "/bench/empty/"


@requires(Capability.VIEW_ACCOUNT)
def empty_page(request: HttpRequest) -> HttpResponse:
    return render(request, "bench/empty.html")


urlpatterns = [path(EMPTY_PAGE.lstrip("/"), empty_page), *site_urlpatterns]
