from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from accounts.signals import demo_data_seeded

from .middleware import VISIT_SESSION_KEY
from .models import RepresentativeSession
from .selectors import enter_permission_id
from .services import visit_end
from .services.staff import staff_member_set_team


@receiver(demo_data_seeded, dispatch_uid="remote_access.seed_staff_teams")
def seed_staff_teams(sender, users, **kwargs) -> None:
    """Demo staff: support@ may enter accounts; csm@ may also turn remote access off."""
    staff_member_set_team(user=users["support@latchkey.test"], team="Support")
    staff_member_set_team(user=users["csm@latchkey.test"], team="Success", may_disable=True)


@receiver(user_logged_out, dispatch_uid="remote_access.end_visit_on_sign_out")
def end_visit_on_sign_out(sender, request, user, **kwargs) -> None:
    """Signing out, or a staff session timing out, ends the visit it carried."""
    if request is None or user is None or VISIT_SESSION_KEY not in request.session:
        return
    session = (
        RepresentativeSession.objects.select_related("staff_user", "account", "grant")
        .filter(pk=request.session[VISIT_SESSION_KEY], staff_user=user, ended_at__isnull=True)
        .first()
    )
    if session is not None:
        visit_end(visit=session, reason=RepresentativeSession.EndReason.SIGNED_OUT)


@receiver(post_migrate, dispatch_uid="remote_access.forget_permission_ids")
def forget_permission_ids(sender, **kwargs) -> None:
    """A migrate, or a test database's flush, can recreate permissions under new ids."""
    enter_permission_id.cache_clear()
