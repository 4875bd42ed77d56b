from django.urls import path

from . import views

app_name = "audience"

urlpatterns = [
    path("audience/", views.profiles, name="profiles"),
    path("audience/import/", views.import_upload, name="import_upload"),
    path("audience/imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("audience/imports/<int:job_id>/start/", views.import_start, name="import_start"),
    path("audience/imports/<int:job_id>/again/", views.import_again, name="import_again"),
    path("audience/imports/<int:job_id>/progress/", views.import_progress, name="import_progress"),
    path(
        "audience/imports/<int:job_id>/rejected.csv",
        views.import_rejections,
        name="import_rejections",
    ),
    path("audience/segments/", views.segments, name="segments"),
    path("audience/segments/new/", views.segment_edit, name="segment_new"),
    path("audience/segments/<int:segment_id>/", views.segment_edit, name="segment_edit"),
    path("audience/segments/<int:segment_id>/delete/", views.segment_remove, name="segment_delete"),
]
