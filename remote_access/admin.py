from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import AccountAdmin, MembershipInline
from accounts.errors import ApplicationError
from accounts.models import Account

from .admin_views import AccountAdminViews
from .events import EVENT_RELATED, describe
from .models import (
    AccessEvent,
    AccessRequest,
    RemoteAccessGrant,
    RepresentativeSession,
    SupportRequest,
)
from .permissions import ASK_FOR_ACCESS, DISABLE_REMOTE_ACCESS, ENABLE_REMOTE_ACCESS, ENTER_ACCOUNT
from .selectors import access_request_latest, live_grant, live_grant_column, live_grant_exists
from .services import support_request_reopen, support_request_resolve
from .timefmt import moment


class RemoteAccessFilter(admin.SimpleListFilter):
    title = _("remote access")
    parameter_name = "remote_access"

    def lookups(self, request, model_admin):
        return [("live", _("Live")), ("none", _("None")), ("off", _("Turned off"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "live":
            return queryset.filter(has_live_grant=True, remote_access_disabled=False)
        if self.value() == "none":
            return queryset.filter(has_live_grant=False, remote_access_disabled=False)
        if self.value() == "off":
            return queryset.filter(remote_access_disabled=True)
        return queryset


class MembershipInZoneInline(MembershipInline):
    """Members, with when they joined in the account's zone (as every time on the page)."""

    fields = ["user", "role", "joined"]
    readonly_fields = ["joined"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("account", "user")

    @admin.display(description=_("Joined"))
    def joined(self, membership) -> str:
        return moment(membership.created_at, membership.account.tzinfo) if membership.pk else ""


class RemoteAccessAccountAdmin(AccountAdminViews, AccountAdmin):
    """The accounts admin, plus what support staff need for remote access."""

    list_display = ["name", "plan", "remote_access_status", "timezone", "created"]
    list_filter = [RemoteAccessFilter, "plan"]
    change_form_template = "admin/remote_access/account_change_form.html"
    # The remote-access facts (live, none, turned off and why) are the block at the top of the
    # page, so the turned-off fields are not repeated in a fieldset of their own.
    fieldsets = [(None, {"fields": ["name", "timezone", "plan", "created"]})]
    readonly_fields = ["created"]
    inlines = [MembershipInZoneInline]

    @admin.display(description=_("Created at"), ordering="created_at")
    def created(self, account: Account) -> str:
        """In the account's zone, like every other time an agent reads about the account."""
        return moment(account.created_at, account.tzinfo)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_live_grant=live_grant_exists(),
                live_until=live_grant_column("expires_at"),
                live_granted_by=live_grant_column("granted_by__full_name"),
            )
        )

    @admin.display(description=_("remote access"))
    def remote_access_status(self, account: Account) -> str:
        if account.remote_access_disabled:
            return _("Turned off")
        if account.has_live_grant:
            return _("Live until %(until)s, granted by %(name)s") % {
                "until": moment(account.live_until, account.tzinfo),
                "name": account.live_granted_by,
            }
        return _("None")

    def get_urls(self):
        views = [
            path(
                "end-my-visit/",
                self.admin_site.admin_view(self.end_own_visit_view),
                name="accounts_account_end_own_visit",
            ),
            path(
                "<path:object_id>/enter/",
                self.admin_site.admin_view(self.enter_account_view),
                name="accounts_account_enter",
            ),
            path(
                "<path:object_id>/ask-for-access/",
                self.admin_site.admin_view(self.ask_for_access_view),
                name="accounts_account_ask_for_access",
            ),
            path(
                "<path:object_id>/remote-access/off/",
                self.admin_site.admin_view(self.disable_remote_access_view),
                name="accounts_account_disable_remote_access",
            ),
            path(
                "<path:object_id>/remote-access/on/",
                self.admin_site.admin_view(self.enable_remote_access_view),
                name="accounts_account_enable_remote_access",
            ),
        ]
        return views + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        if account is not None:
            extra_context = {
                **(extra_context or {}),
                "live_grant": live_grant(account=account),
                "grant_access_url": (
                    settings.SITE_URL.rstrip("/") + reverse("remote_access:grant_access_link")
                ),
                "enter_denial": ENTER_ACCOUNT.denial(request, account),
                "can_disable": DISABLE_REMOTE_ACCESS.denial(request, account) is None,
                "can_enable": ENABLE_REMOTE_ACCESS.denial(request, account) is None,
                "can_ask": ASK_FOR_ACCESS.denial(request, account) is None,
                "my_access_request": access_request_latest(
                    account=account, staff_user=request.user
                ),
                "now": timezone.now(),
            }
        return super().change_view(request, object_id, form_url, extra_context)


# accounts.admin registered the plain Account admin when it was imported (above); this app
# puts in its place one that adds remote access. Guarded, so importing twice is harmless.
if admin.site.is_registered(Account):
    admin.site.unregister(Account)
admin.site.register(Account, RemoteAccessAccountAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is never edited away: no add, change or delete, for superusers too."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RemoteAccessGrant)
class RemoteAccessGrantAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "status",
        "duration",
        "granted_by",
        "granted_at",
        "expires_at",
        "ended_at",
    ]
    list_filter = ["status", "duration", "source"]
    search_fields = ["account__name", "granted_by__email"]
    list_select_related = ["account", "granted_by"]
    date_hierarchy = "granted_at"


def _visit_count(kind: str, **extra) -> Count:
    return Count("events", filter=Q(events__kind=kind, **extra))


@admin.register(RepresentativeSession)
class RepresentativeSessionAdmin(ReadOnlyAdmin):
    """Visits, with what happened in each: the staff side of the merchant's history."""

    list_display = [
        "account",
        "staff_user",
        "team",
        "ticket_reference",
        "started_at",
        "duration",
        "pages_opened",
        "changes",
        "refusals",
        "end_reason",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pages_opened=_visit_count(AccessEvent.Kind.PAGE_VIEWED),
                changes=_visit_count(AccessEvent.Kind.ACTION_PERFORMED, events__result__lt=400),
                refusals=_visit_count(AccessEvent.Kind.ACTION_BLOCKED),
            )
        )

    @admin.display(description=_("duration"))
    def duration(self, visit: RepresentativeSession) -> str:
        end = visit.ended_at or timezone.now()
        minutes = int((end - visit.started_at).total_seconds() // 60)
        text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
        return text if visit.ended_at else _("%(time)s so far") % {"time": text}

    @admin.display(description=_("pages opened"), ordering="pages_opened")
    def pages_opened(self, visit: RepresentativeSession) -> int:
        return visit.pages_opened

    @admin.display(description=_("changes"), ordering="changes")
    def changes(self, visit: RepresentativeSession) -> int:
        return visit.changes

    @admin.display(description=_("refusals"), ordering="refusals")
    def refusals(self, visit: RepresentativeSession) -> int:
        return visit.refusals

    list_filter = ["team", "end_reason"]
    search_fields = ["account__name", "staff_user__email", "ticket_reference"]
    list_select_related = ["account", "staff_user"]
    date_hierarchy = "started_at"


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "sentence", "path", "result"]
    list_filter = ["kind"]
    search_fields = ["account__name", "path", "object_label"]
    list_select_related = ["account", *EVENT_RELATED]
    date_hierarchy = "created_at"

    @admin.display(description=_("what happened"))
    def sentence(self, event: AccessEvent) -> str:
        return describe(event)


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "account",
        "team",
        "subject",
        "status",
        "access_live",
        "enter",
        "created_at",
    ]
    list_filter = ["team", "status"]
    search_fields = ["account__name", "subject"]
    list_select_related = ["account"]
    actions = ["mark_resolved", "reopen"]

    def _each(self, request: HttpRequest, queryset: QuerySet, service, done: str) -> None:
        changed = 0
        for support_request in queryset:
            try:
                changed += service(support_request=support_request, staff_user=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, level=messages.ERROR)
                return
        self.message_user(request, done % {"count": changed}, level=messages.SUCCESS)

    @admin.action(description=_("Mark resolved (ends access granted until then)"))
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, support_request_resolve, _("%(count)d marked resolved."))

    @admin.action(description=_("Reopen (access that ended stays ended)"))
    def reopen(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, support_request_reopen, _("%(count)d reopened."))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(access_live=live_grant_exists(account_ref="account_id"))
        )

    @admin.display(boolean=True, description=_("access live"))
    def access_live(self, support_request: SupportRequest) -> bool:
        return support_request.access_live

    @admin.display(description=_("enter"))
    def enter(self, support_request: SupportRequest) -> str:
        if not support_request.access_live:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:accounts_account_enter", args=[support_request.account_id]),
            _("Enter account"),
        )


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "staff_user",
        "ticket_reference",
        "duration",
        "scope",
        "status",
        "created_at",
        "decided_by",
    ]
    list_filter = ["status", "scope"]
    search_fields = ["account__name", "staff_user__email", "ticket_reference"]
    list_select_related = ["account", "staff_user", "decided_by"]
    date_hierarchy = "created_at"
