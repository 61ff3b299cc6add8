"""The Celery app. Settings come from Django settings (CELERY_* names).

Without CELERY_BROKER_URL the tasks run eagerly in-process (embedded mode, see settings.base).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_platform.settings.local")

app = Celery("credit_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
