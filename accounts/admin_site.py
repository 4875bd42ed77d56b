"""All of admin behind two factors (security review, finding 3).

The default admin site (`admin.site`, where every app registers its models) is this one,
through `StaffAdminConfig.default_site`. Every admin page, the index and every changelist
included, goes through `admin_view`, which lets in only active staff whose session was
verified with a two-factor code (django-otp's `OTPAdminSite.has_permission`). Before that
check, staff who are signed in but not verified are sent where they can fix it:
- no confirmed authenticator yet: to set one up (the profile's two-factor page), seeing
  nothing else of admin;
- an authenticator, but this session never used it: signed out, to sign in again with the
  password and a code.
Someone signed in who is not staff gets a 403 (not the admin's login page, which here is the
site's own sign-in and would send a signed-in person straight back: a redirect loop).
"""

from functools import update_wrapper

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from .services.mfa import user_has_mfa

ADMIN_SET_UP_TWO_FACTOR = _(
    "Staff pages need two-factor sign-in. Set up your authenticator app to go on."
)
ADMIN_SIGN_IN_WITH_CODE = _(
    "Staff pages need a sign-in with your two-factor code. Sign in again to go on."
)
ADMIN_STAFF_ONLY = _("These pages are for the vendor's staff.")


def two_factor_detour(request: HttpRequest) -> HttpResponse | None:
    """Where a signed-in person who may not see admin yet must go instead, or None."""
    user = request.user
    if not user.is_authenticated:
        return None  # the admin sends them to sign in
    if not (user.is_active and user.is_staff):
        raise PermissionDenied(ADMIN_STAFF_ONLY)
    if user.is_verified():
        return None
    if not user_has_mfa(user=user):
        messages.info(request, ADMIN_SET_UP_TWO_FACTOR)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:mfa_setup')}?{query}")
    logout(request)
    messages.info(request, ADMIN_SIGN_IN_WITH_CODE)
    return redirect_to_login(request.get_full_path())


class StaffAdminSite(OTPAdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def admin_view(self, view, cacheable: bool = False):
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return two_factor_detour(request) or guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)
