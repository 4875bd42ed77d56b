"""The admin app's config, in its own module: Django picks an app's config from its module, and
this one must not be mistaken for the accounts app's."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """Django's admin, whose default site (`admin.site`, where every app registers) needs a
    two-factor sign-in: see accounts/admin_site.py."""

    default_site = "accounts.admin_site.StaffAdminSite"
