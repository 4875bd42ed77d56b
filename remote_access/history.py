"""The access history as records for machines: the CSV export and the API share one shape."""

from collections.abc import Iterator

from accounts.models import Account

from .models import AccessEvent
from .selectors import access_history_rows

CSV_COLUMNS = [
    "time",
    "time_zone",
    "event",
    "summary",
    "by",
    "role",
    "team",
    "visit_id",
    "ticket",
    "ip",
    "method",
    "path",
    "result",
]


def event_record_fields(event: AccessEvent, *, account: Account) -> dict:
    """One event's facts and sentence, as plain values (times in the account's zone)."""
    visit = event.session
    actor = event.actor
    return {
        "id": event.pk,
        "time": event.created_at.astimezone(account.tzinfo).isoformat(timespec="seconds"),
        "time_zone": account.timezone,
        "event": event.kind,
        "summary": event.sentence,
        "by": f"{actor.full_name} <{actor.email}>" if actor else "",
        "role": event.actor_role,
        "team": event.actor_team,
        "visit_id": visit.pk if visit else None,
        "ticket": visit.ticket_reference if visit else "",
        "ip": visit.source_ip if visit else None,
        "method": event.method,
        "path": event.path,
        "result": event.result,
        "object": {"type": event.object_type, "id": event.object_id, "label": event.object_label},
        "payload": event.payload,
    }


def csv_cells(fields: dict) -> list:
    return ["" if fields[column] is None else fields[column] for column in CSV_COLUMNS]


def access_history_csv_rows(*, account: Account) -> Iterator[list]:
    yield CSV_COLUMNS
    for event in access_history_rows(account=account):
        yield csv_cells(event_record_fields(event, account=account))
