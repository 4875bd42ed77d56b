from django.urls import path

from . import views

# No namespace: the probes are /healthz and /readyz at the root, named as such.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
