from django.contrib import admin

from .models import AccessEvent, RemoteAccessGrant, SupportRequest


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


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "summary"]
    list_filter = ["kind"]
    search_fields = ["account__name", "summary"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "account", "team", "subject", "status", "created_at"]
    list_filter = ["team", "status"]
    search_fields = ["account__name", "subject"]
    list_select_related = ["account"]
