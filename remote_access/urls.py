from django.urls import path

from . import api, views, visit_views

app_name = "remote_access"

urlpatterns = [
    path("grant-access", views.grant_access_link, name="grant_access_link"),
    path("settings/security/", views.security, name="security"),
    path(
        "settings/security/access/<int:grant_id>/remove/",
        views.grant_remove,
        name="grant_remove",
    ),
    path("settings/security/ask/", views.ask_for_access, name="ask_for_access"),
    path(
        "settings/security/requests/<int:access_request_id>/approve/",
        views.access_request_approve_view,
        name="access_request_approve",
    ),
    path(
        "settings/security/requests/<int:access_request_id>/deny/",
        views.access_request_deny_view,
        name="access_request_deny",
    ),
    path("settings/security/visits/<int:visit_id>/end/", visit_views.visit_end, name="visit_end"),
    path("settings/security/end/<str:token>/", visit_views.escape, name="escape"),
    path("settings/security/history.csv", views.history_export, name="history_export"),
    path("api/v1/access-events", api.access_events, name="api_access_events"),
    path("help/contact/", views.contact, name="contact"),
    path("help/contact/<int:request_id>/", views.contact_sent, name="contact_sent"),
    path("support-session/exit/", views.representative_exit, name="representative_exit"),
]
