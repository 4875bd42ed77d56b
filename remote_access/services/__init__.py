"""Writes for remote access: import services from here."""

from .asking import access_ask
from .common import (
    GRANT_CHANGED_MEANWHILE,
    NOTHING_TO_REMOVE,
    REMOTE_ACCESS_OFF,
    event_record,
)
from .ending import grant_end
from .expiry import (
    expiry_warnings_queue,
    grant_expire_if_overdue,
    grants_expire_due,
)
from .grants import access_grant, access_remove, support_request_create
from .merchant import VISIT_ALREADY_ENDED, visit_end_by_merchant
from .requests import (
    access_request_approve,
    access_request_create,
    access_request_deny,
    access_requests_expire_due,
    support_request_reopen,
    support_request_resolve,
)
from .turn_off import remote_access_disable, remote_access_enable
from .visits import (
    visit_end,
    visit_start,
    visits_end_for_grant,
)

__all__ = [
    "GRANT_CHANGED_MEANWHILE",
    "NOTHING_TO_REMOVE",
    "REMOTE_ACCESS_OFF",
    "access_ask",
    "VISIT_ALREADY_ENDED",
    "access_grant",
    "access_remove",
    "access_request_approve",
    "access_request_create",
    "access_request_deny",
    "access_requests_expire_due",
    "event_record",
    "expiry_warnings_queue",
    "grant_end",
    "grant_expire_if_overdue",
    "grants_expire_due",
    "remote_access_disable",
    "remote_access_enable",
    "visit_end",
    "visit_end_by_merchant",
    "visit_start",
    "visits_end_for_grant",
    "support_request_create",
    "support_request_reopen",
    "support_request_resolve",
]
