from django.apps import AppConfig


class RemoteAccessConfig(AppConfig):
    name = "remote_access"
    verbose_name = "Remote access"

    def ready(self) -> None:
        from accounts.backends import read_with_session, read_with_user
        from outbox.renderers import renderer_register

        from . import receivers  # noqa: F401 - connects the signal receivers
        from .mail import expiry_notices_render, expiry_warnings_render, mail_kind
        from .middleware import VISIT_READ, visit_read_for_session
        from .selectors import VISITS_INSIDE_ACCOUNTS_OF, VISITS_INSIDE_READ

        renderer_register(kind=mail_kind("expired"), render=expiry_notices_render)
        renderer_register(kind=mail_kind("expiring"), render=expiry_warnings_render)
        # The live notice's visits come in the same round trip as the signed-in user.
        read_with_user(VISITS_INSIDE_READ, VISITS_INSIDE_ACCOUNTS_OF)
        # So does the visit check, for a session that is in a visit.
        read_with_session(VISIT_READ, visit_read_for_session)
