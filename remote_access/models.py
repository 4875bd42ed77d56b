from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.validators import multi_line_text, single_line_text


class Duration(models.TextChoices):
    """How long a grant lasts. The labels are part of the contract (DESIGN §6)."""

    ONE_DAY = "1d", _("1 day")
    SEVEN_DAYS = "7d", _("7 days")
    THIRTY_DAYS = "30d", _("30 days")
    NINETY_DAYS = "90d", _("90 days")
    CUSTOM = "custom", _("Custom date")
    # Only with a support request (Help › Contact support): ends when staff mark the request
    # resolved, or after 30 days, whichever comes first.
    UNTIL_RESOLVED = "resolved", _("Until this request is resolved (at most 30 days)")


class Scope(models.TextChoices):
    """What a representative may do on a grant. The labels are part of the contract (§6)."""

    FULL = "full", _("Full access")
    VIEW_ONLY = "view_only", _("View only")


class Team(models.TextChoices):
    SUPPORT = "support", _("Support")
    ONBOARDING = "onboarding", _("Onboarding")
    SUCCESS = "success", _("Success")
    OTHER = "other", _("Other")


class SupportRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Resolved")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="support_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    team = models.CharField(_("team"), max_length=16, choices=Team.choices, default=Team.SUPPORT)
    subject = models.CharField(_("subject"), max_length=200, validators=[single_line_text])
    message = models.TextField(_("message"), max_length=10_000, validators=[multi_line_text])
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class RemoteAccessGrant(models.Model):
    """One period of support access granted by a merchant. History is never edited away."""

    class Source(models.TextChoices):
        SECURITY_PAGE = "security_page", _("Security page")
        SUPPORT_REQUEST = "support_request", _("Support request")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Removed")
        EXPIRED = "expired", _("Expired")
        REPLACED = "replaced", _("Replaced")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="remote_access_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    duration = models.CharField(max_length=8, choices=Duration.choices)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SECURITY_PAGE)
    support_request = models.ForeignKey(
        SupportRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When the "ends within a day" mail was written to the outbox: once per grant. (The "has
    # ended" mail is written by the expiry itself, so it needs no mark.)
    expiry_warning_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="active"),
                name="one_active_grant_per_account",
                violation_error_message=_("This account already has active support access."),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")), name="grant_expires_after_granted"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "revoked", "expired", "replaced"]),
                name="grant_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["full", "view_only"]), name="grant_scope_valid"
            ),
            # "Until resolved" needs the request it waits for.
            models.CheckConstraint(
                condition=~Q(duration="resolved") | Q(support_request__isnull=False),
                name="grant_until_resolved_has_request",
            ),
        ]
        indexes = [
            # The expiry sweep's claim, exactly: active grants in (expires_at, id) order, so a
            # batch reads its rows from the index in order, starting at the key where the last
            # batch stopped, with no sort. Partial: an expired grant's new row adds no entry.
            models.Index(
                fields=["expires_at", "id"],
                condition=Q(status="active"),
                name="grant_active_expiry_idx",
            ),
        ]
        permissions = [
            ("enter_account", "Can enter a merchant account with a live grant"),
            ("disable_remote_access", "Can turn remote access off and on for an account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} until {self.expires_at:%Y-%m-%d %H:%M} ({self.status})"


class RepresentativeSession(models.Model):
    """A staff member's visit to a merchant account on a live grant. They stay themselves."""

    class EndReason(models.TextChoices):
        EXIT = "exit", _("left")
        REVOKED = "revoked", _("access was removed")
        EXPIRED = "expired", _("access expired")
        REPLACED = "replaced", _("access was changed")
        DISABLED = "disabled", _("remote access was turned off")
        PERMISSION_LOST = "permission_lost", _("the staff member lost the permission")
        TIMED_OUT = "timed_out", _("the session reached its maximum length")
        SIGNED_OUT = "signed_out", _("the staff member signed out")
        ABANDONED = "abandoned", _("left without exiting, replaced by a new visit")
        RESOLVED = "resolved", _("the support request was resolved")
        ENDED_BY_MERCHANT = "ended_by_merchant", _("ended by the merchant")

    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="representative_sessions"
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="representative_sessions"
    )
    grant = models.ForeignKey(
        RemoteAccessGrant,
        on_delete=models.PROTECT,
        related_name="representative_sessions",
        db_index=False,  # the partial index on open sessions below is the one that is read
    )
    team = models.CharField(max_length=16, choices=Team.choices)
    ticket_reference = models.CharField(
        _("ticket reference"), max_length=100, validators=[single_line_text]
    )
    note = models.TextField(_("note"), blank=True, max_length=2000, validators=[multi_line_text])
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_user"],
                condition=Q(ended_at__isnull=True),
                name="one_open_session_per_staff_user",
            ),
            models.CheckConstraint(
                condition=~Q(ticket_reference=""), name="session_ticket_reference_required"
            ),
        ]
        indexes = [
            models.Index(
                fields=["grant"], condition=Q(ended_at__isnull=True), name="session_open_grant_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_user} in {self.account} ({self.ticket_reference})"


# The rows the Security tab lists at the top level: everything outside a visit, and the
# visit's start standing for the whole visit.
HISTORY_ITEM = Q(session__isnull=True) | Q(kind="session_started")


class AccessEvent(models.Model):
    """The append-only audit trail of an account, stored as facts (DESIGN §4): who, in which
    visit and on which grant, touched what, how, with what result. The sentence a merchant
    reads is rendered from these facts when read (remote_access.events.describe), so every
    writer — services, the visit middleware, the expiry SQL — produces the same row.
    PostgreSQL refuses UPDATE/DELETE/TRUNCATE."""

    class Kind(models.TextChoices):
        GRANTED = "granted", _("Access granted")
        REPLACED = "replaced", _("Access replaced")
        REMOVED = "removed", _("Access removed")
        EXPIRED = "expired", _("Access expired")
        SESSION_STARTED = "session_started", _("Support entered")
        SESSION_ENDED = "session_ended", _("Support left")
        PAGE_VIEWED = "page_viewed", _("Support opened a page")
        ACTION_PERFORMED = "action_performed", _("Support action")
        ACTION_BLOCKED = "action_blocked", _("Support action blocked")
        REMOTE_ACCESS_DISABLED = "remote_access_disabled", _("Remote access turned off")
        REMOTE_ACCESS_ENABLED = "remote_access_enabled", _("Remote access turned on")
        ACCESS_ASKED = "access_asked", _("Access asked for")
        ACCESS_REQUESTED = "access_requested", _("Access requested")
        ACCESS_APPROVED = "access_approved", _("Access request approved")
        ACCESS_DENIED = "access_denied", _("Access request denied")
        REQUEST_RESOLVED = "request_resolved", _("Support request resolved")
        REQUEST_REOPENED = "request_reopened", _("Support request reopened")

    # No index of its own: the (account, -created_at, -id) index below serves account lookups.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="access_events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Indexed only where set (see Meta): most rows written in bulk, such as expiries, have none.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Who the actor was at the time: a member's role, or a staff member's team.
    actor_role = models.CharField(max_length=16, blank=True)
    actor_team = models.CharField(max_length=16, choices=Team.choices, blank=True)
    # Neither indexed nor checked by a database constraint: the expiry sweep writes events by
    # the hundred thousand next to the grants they name, and a per-row foreign-key check
    # doubled its cost (bench/expire.py). Grants are never deleted (PROTECT here, no delete in
    # the admin), and the account — the tenant boundary — keeps its database constraint.
    grant = models.ForeignKey(
        RemoteAccessGrant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    # The visit (named `session` by the model's contract, DESIGN §4).
    session = models.ForeignKey(
        RepresentativeSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    # What was touched: a page, a segment, a setting... (type, id, label).
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True, validators=[single_line_text])
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=300, blank=True)
    # The HTTP status a representative's request answered (None for events of no request).
    result = models.PositiveSmallIntegerField(null=True, blank=True)
    # Small facts particular to a kind: a grant's duration, a visit's end reason, a refused
    # capability, the words a view gave for its change.
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The export and the API read an account's events in the order they were written
            # (newest first), so that a cursor never misses a row written late with an
            # earlier time, such as an expiry the sweep reached after the fact.
            models.Index(fields=["account", "-id"], name="event_account_written_idx"),
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="event_actor_idx"
            ),
            # The Security tab's pages, by keyset: constant cost however deep.
            models.Index(
                fields=["account", "-created_at", "-id"],
                condition=HISTORY_ITEM,
                name="event_history_item_idx",
            ),
            # A visit's rows, for the history's visit groups.
            models.Index(
                fields=["session"], condition=Q(session__isnull=False), name="event_visit_idx"
            ),
        ]

    # An item of the Security tab's history is an event or a visit (history.VisitGroup), and
    # the template asks which: a name the event lacked cost three exceptions a row.
    is_visit = False

    def __str__(self) -> str:
        from .events import describe

        return describe(self)


class AccessRequest(models.Model):
    """Support asking a merchant for access on a ticket; an Owner or Admin approves or denies.

    Pending is decided against the clock, like a live grant: `status = pending and
    expires_at > now` (see selectors.pending_condition). The beat task only marks the
    overdue ones expired."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        EXPIRED = "expired", _("Expired")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="access_requests")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    team = models.CharField(max_length=16, choices=Team.choices)
    ticket_reference = models.CharField(
        _("ticket reference"), max_length=100, validators=[single_line_text]
    )
    reason = models.TextField(
        _("what they need to look at"), max_length=500, validators=[multi_line_text]
    )
    duration = models.CharField(max_length=8, choices=Duration.choices)
    last_day = models.DateField(null=True, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    deny_reason = models.TextField(
        _("reason"), blank=True, max_length=500, validators=[multi_line_text]
    )
    grant = models.OneToOneField(
        RemoteAccessGrant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_request",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "staff_user"],
                condition=Q(status="pending"),
                name="one_pending_access_request_per_staff_user",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "denied", "expired"]),
                name="access_request_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(ticket_reference="") & ~Q(reason=""),
                name="access_request_ticket_and_reason_required",
            ),
            models.CheckConstraint(
                condition=~Q(duration="resolved"), name="access_request_not_until_resolved"
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "expires_at"],
                condition=Q(status="pending"),
                name="access_request_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_user} asks {self.account} ({self.ticket_reference}, {self.status})"
