import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import AUTHENTICATED_AT, LAST_SEEN
from .sudo import SUDO_AT


@receiver(user_logged_in, dispatch_uid="accounts.remember_sign_in_time")
def remember_sign_in_time(sender, request, user, **kwargs) -> None:
    """When this session last proved who it is: session timeouts, staff re-authentication and
    sudo mode count from here."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[AUTHENTICATED_AT] = now
        request.session[LAST_SEEN] = now
        request.session[SUDO_AT] = now
