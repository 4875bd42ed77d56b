"""Who is at the other end of a request: the one place that reads the client's address."""

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


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
