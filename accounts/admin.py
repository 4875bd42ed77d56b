from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Account, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "timezone", "created_at"]
    list_filter = ["plan"]
    search_fields = ["name", "memberships__user__email"]
    fieldsets = [
        (None, {"fields": ["name", "timezone", "plan", "created_at"]}),
        (
            _("Remote access turned off"),
            {
                "classes": ["collapse"],
                "fields": [
                    "remote_access_disabled",
                    "remote_access_disabled_at",
                    "remote_access_disabled_by",
                    "remote_access_disabled_reason",
                ],
            },
        ),
    ]
    readonly_fields = [
        "created_at",
        "remote_access_disabled",
        "remote_access_disabled_at",
        "remote_access_disabled_by",
        "remote_access_disabled_reason",
    ]
    inlines = [MembershipInline]
