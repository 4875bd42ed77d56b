"""Writes for remote access: import services from here."""

from .common import (
    GRANT_CHANGED_MEANWHILE,
    NOTHING_TO_REMOVE,
    REMOTE_ACCESS_OFF,
    RemoteAccessError,
    event_record,
)
from .expiry import (
    expiry_notices_requeue_owed,
    expiry_warnings_queue,
    grant_expire,
    grants_expire_due,
)
from .grants import access_grant, access_remove, support_request_create

__all__ = [
    "GRANT_CHANGED_MEANWHILE",
    "NOTHING_TO_REMOVE",
    "REMOTE_ACCESS_OFF",
    "RemoteAccessError",
    "access_grant",
    "access_remove",
    "event_record",
    "expiry_notices_requeue_owed",
    "expiry_warnings_queue",
    "grant_expire",
    "grants_expire_due",
    "support_request_create",
]
