from django.apps import AppConfig


class RemoteAccessConfig(AppConfig):
    name = "remote_access"
    verbose_name = "Remote access"

    def ready(self) -> None:
        from accounts.backends import read_with_request, read_with_user
        from outbox.renderers import renderer_register

        from . import receivers  # noqa: F401 - connects the signal receivers
        from .mail import expiry_notices_render, expiry_warnings_render, mail_kind
        from .middleware import visit_read_for_request
        from .selectors import (
            VISITS_INSIDE_ACCOUNTS_OF,
            VISITS_INSIDE_READ,
            security_tab_read_for_request,
        )

        renderer_register(kind=mail_kind("expired"), render=expiry_notices_render)
        renderer_register(kind=mail_kind("expiring"), render=expiry_warnings_render)
        # The live notice's visits come in the same round trip as the signed-in user.
        read_with_user(VISITS_INSIDE_READ, VISITS_INSIDE_ACCOUNTS_OF)
        # So do the visit check, for a session that is in a visit, and the Security tab's reads.
        read_with_request(visit_read_for_request)
        read_with_request(security_tab_read_for_request)
