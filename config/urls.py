from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Latchkey staff"
admin.site.site_title = "Latchkey staff"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("remote_access.urls")),
    path("", include("audience.urls")),
    path("", include("accounts.urls")),
]
