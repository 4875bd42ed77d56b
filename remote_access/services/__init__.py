"""Writes for remote access: import services from here."""

from .common import (
    ALREADY_IN_SESSION,
    GRANT_CHANGED_MEANWHILE,
    NO_LIVE_GRANT,
    NOTHING_TO_REMOVE,
    REMOTE_ACCESS_OFF,
    RemoteAccessError,
    event_record,
)
from .expiry import (
    expiry_warnings_queue,
    grant_expire_if_overdue,
    grants_expire_due,
)
from .grants import access_grant, access_remove, support_request_create
from .sessions import (
    remote_access_disable,
    remote_access_enable,
    session_end,
    session_start,
    sessions_end_for_grant,
)

__all__ = [
    "ALREADY_IN_SESSION",
    "NO_LIVE_GRANT",
    "GRANT_CHANGED_MEANWHILE",
    "NOTHING_TO_REMOVE",
    "REMOTE_ACCESS_OFF",
    "RemoteAccessError",
    "access_grant",
    "access_remove",
    "event_record",
    "expiry_warnings_queue",
    "grant_expire_if_overdue",
    "grants_expire_due",
    "remote_access_disable",
    "remote_access_enable",
    "session_end",
    "session_start",
    "sessions_end_for_grant",
    "support_request_create",
]
