from django.db.models import Q, QuerySet

from accounts.models import Account

from .conditions import Condition, conditions_q, parse_conditions
from .models import ImportJob, Profile, Segment

PREVIEW_MEMBERS = 50


def profile_search(*, account: Account, query: str = "") -> QuerySet[Profile]:
    profiles = Profile.objects.filter(account=account).order_by("email")
    query = query.strip()
    if query:
        profiles = profiles.filter(
            Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    return profiles


def segment_members(
    *, account: Account, conditions: list[Condition], match: str
) -> QuerySet[Profile]:
    return Profile.objects.filter(account=account).filter(
        conditions_q(conditions, match=match, tz=account.tzinfo)
    )


def segment_preview(
    *, account: Account, conditions: list[Condition], match: str
) -> tuple[int, list[Profile]]:
    """The member count (one SQL COUNT) and the first members, never the whole segment."""
    members = segment_members(account=account, conditions=conditions, match=match)
    return members.count(), list(members.order_by("email")[:PREVIEW_MEMBERS])


def segment_saved_preview(*, segment: Segment) -> tuple[int, list[Profile]]:
    """The preview of a saved segment; ApplicationError when its stored conditions can no
    longer be asked (saved before a rule was tightened), so the page says so."""
    return segment_preview(
        account=segment.account,
        conditions=parse_conditions(segment.conditions),
        match=segment.match,
    )


def account_segments(*, account: Account) -> QuerySet[Segment]:
    return Segment.objects.filter(account=account)


def account_imports(*, account: Account) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(account=account).defer("content")
