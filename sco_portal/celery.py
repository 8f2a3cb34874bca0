import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sco_portal.settings")

app = Celery("sco_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Publishing a task from a web request must fail fast when the broker is down or silent: the
# person is waiting, and what the task would do is kept in the database for a sweeper to
# enqueue later (the outbox, a city's pending recompute).
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
