"""Asking for a password-reset mail, with limits: mail to one address, and requests from one
IP, are counted, so nobody can flood an inbox or probe addresses in bulk."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy

from ..authorization import public
from ..forms import OutboxPasswordResetForm
from ..http import client_ip
from ..ratelimit import rate_limited_response, record_attempt

RESET_MAILS_PER_EMAIL = 3
RESET_REQUESTS_PER_IP = 20
RESET_WINDOW_SECONDS = 60 * 60


class PasswordResetRequestView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"

    def post(self, request, *args, **kwargs) -> HttpResponse:
        ip = client_ip(request) or "unknown"
        if record_attempt("reset-ip", ip, window=RESET_WINDOW_SECONDS) > RESET_REQUESTS_PER_IP:
            return rate_limited_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        """Past the limit for an address, the page says the same as always ("if an account
        exists, a mail is on its way") and sends nothing: it never tells who has an account."""
        email = form.cleaned_data["email"].strip().lower()
        if record_attempt("reset-email", email, window=RESET_WINDOW_SECONDS) > (
            RESET_MAILS_PER_EMAIL
        ):
            return super(auth_views.PasswordResetView, self).form_valid(form)
        return super().form_valid(form)


password_reset_request = public(PasswordResetRequestView.as_view())
