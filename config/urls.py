from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Latchkey staff"
admin.site.site_title = "Latchkey staff"

urlpatterns = [
    # Staff sign in through the site's own sign-in, which asks for the two-factor code.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
    path("", include("health.urls")),
    path("", include("remote_access.urls")),
    path("", include("audience.urls")),
    path("", include("accounts.urls")),
]
