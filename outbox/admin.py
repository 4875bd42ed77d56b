from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import OutboxMessage
from .services import outbox_requeue

HIDDEN_BODY = _("(hidden: it holds a one-time link; erased once sent)")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: what was sent, what waits, and what failed (with "Send again")."""

    list_display = [
        "created_at",
        "kind",
        "addressed_to",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "priority"]
    search_fields = ["subject", "kind"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["send_again"]
    fields = [
        "kind",
        "status",
        "priority",
        "addressed_to",
        "subject",
        "text",
        "attempts",
        "next_attempt_at",
        "last_error",
        "claimed_at",
        "claimed_by",
        "created_at",
        "sent_at",
        "payload",
    ]
    readonly_fields = fields

    @admin.display(description=_("to"))
    def addressed_to(self, message: OutboxMessage) -> str:
        return ", ".join(message.recipients)

    @admin.display(description=_("text"))
    def text(self, message: OutboxMessage) -> str:
        return HIDDEN_BODY if message.confidential else message.text_body

    @admin.action(description=_("Send the selected failed mail again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = outbox_requeue(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed mail will be sent again.",
                "%(count)d failed mails will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The list's "Send again" needs it; a single row is never edited.
        return obj is None and super().has_change_permission(request)
