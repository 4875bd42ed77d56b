import os

from celery import Celery

# As in wsgi.py: a worker or beat started without DJANGO_SETTINGS_MODULE runs the production
# settings, which refuse to start without their environment, never the development ones.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("latchkey")
# Every Celery setting lives in Django settings under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
