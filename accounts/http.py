"""Small request helpers every app uses: who is at the other end (the one place that reads
the client's address), where a `next` may send them, whether a request is in the staff
admin, and how a refusal is shown."""

import functools

from django.conf import settings
from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from ipware import get_client_ip

from .errors import ApplicationError


def posted(request: HttpRequest):
    """The data to bind a form to: what was POSTed, or None (an unbound form) otherwise. An
    empty POST still binds, so a form sent with nothing in it shows its errors."""
    return request.POST if request.method == "POST" else None


def in_staff_admin(request: HttpRequest) -> bool:
    """Whether the request is for a page of the staff admin (asked on every request of a
    staff member)."""
    return request.path.startswith(
        _admin_index(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    )


@functools.lru_cache(maxsize=16)
def _admin_index(urlconf: str, script_prefix: str) -> str:
    # Reversing a namespaced name costs 28 µs; the answer depends only on these two.
    return reverse("admin:index", urlconf=urlconf)


def safe_next_url(request: HttpRequest, value: str | None, *, default: str) -> str:
    """`value` when it is a path on this site (same host, and https when the request is),
    else `default`: a `next` parameter never sends anyone elsewhere. Only paths: a bare word
    would be read by `redirect()` as a view name."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return default


def show_error(
    request: HttpRequest,
    error: ApplicationError,
    *,
    form: Form | None = None,
    panel: str | None = None,
) -> None:
    """Show a service's refusal where the person is looking: on the form field it names, or at
    the top of the form, when there is a form; else as a message on the next page, in the
    panel `panel` when given (see `say_in_panel`)."""
    if form is not None:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    else:
        messages.error(request, error.message, extra_tags=panel or "")


def say_in_panel(request: HttpRequest, panel: str, message: str, *, level: int = messages.SUCCESS):
    """Tell the person what their action did, in the panel `panel` (an element id) of the next
    page rather than at its top: that panel includes `_outcome.html`, and the redirect goes to
    `#<panel>`, so the sentence is where they are looking."""
    messages.add_message(request, level, message, extra_tags=panel)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, trusting exactly `TRUSTED_PROXY_COUNT` proxies in front.

    With no proxy (the default) that is the peer the server saw; `X-Forwarded-For` is then
    whatever the client wrote and is ignored. With N proxies, each appends the address it
    received the request from, and the last one is the peer itself, so the client is the
    N-th address from the right: entries further left were written by the client and are
    never believed. gunicorn does not rewrite REMOTE_ADDR from these headers, so this is
    the only place that reads them.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # python-ipware counts the proxies named inside the header: all but the last one.
        forwarded, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if forwarded is not None:
            return forwarded
        # A shorter header than the proxies would write: the request did not come through
        # them (a health probe on the private network), so the peer is the client.
    peer, _routable = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    return peer
