"""The site's admin at another address, for tests of what finds the admin by its name."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("staff-only/", admin.site.urls)]
