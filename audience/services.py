from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.authorization import require_capability
from accounts.errors import ApplicationError
from accounts.models import Account
from accounts.roles import Capability

from .conditions import Condition
from .models import Segment

SEGMENT_NAME_TAKEN = gettext_lazy("A segment with this name exists already; choose another name.")


def _stored(conditions: list[Condition]) -> list[dict]:
    return [
        {"field": c.field, "operator": c.operator, "value": "" if c.value is None else str(c.value)}
        for c in conditions
    ]


@transaction.atomic
def segment_save(
    *,
    account: Account,
    actor: Actor,
    name: str,
    match: str,
    conditions: list[Condition],
    segment: Segment | None = None,
) -> Segment:
    require_capability(actor, account, Capability.EDIT_SEGMENTS)
    segment = segment or Segment(account=account)
    segment.name = name
    segment.match = match
    segment.conditions = _stored(conditions)
    segment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:
        raise ApplicationError(SEGMENT_NAME_TAKEN, field="name") from error
    return segment


@transaction.atomic
def segment_delete(*, account: Account, actor: Actor, segment: Segment) -> None:
    require_capability(actor, account, Capability.EDIT_SEGMENTS)
    Segment.objects.filter(account=account, pk=segment.pk).delete()
