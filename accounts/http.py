"""Small request helpers every app uses."""

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import ApplicationError


def safe_next_url(request: HttpRequest, value: str | None, *, default: str) -> str:
    """`value` when it points at this site (same host, and https when the request is), else
    `default`: a `next` parameter never sends anyone elsewhere."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def show_error(request: HttpRequest, error: ApplicationError, *, form: Form | None = None) -> None:
    """Show a service's refusal where the person is looking: on the form field it names, or at
    the top of the form, when there is a form; else as a message on the next page."""
    if form is not None:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    else:
        messages.error(request, error.message)
