"""Tasks through a real Celery worker on Redis (the production path), not eagerly in-process."""

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

import credit_platform.imports.tasks  # noqa: F401 - registers the shared task on every app
from credit_platform.models import ImportLog
from customers.models import Customer
from tests.conftest import redis_url

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def worker_app():
    """A Celery app configured like production (settings CELERY_*), with Redis as broker and result
    backend (this worker's own Redis database), and a worker thread consuming from it."""
    url = redis_url()
    app = Celery("credit_platform_test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        yield app


def test_import_runs_on_a_real_worker(worker_app, org, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("external_id,legal_name,country,sector,currency\nC1,Alpha,DE,C,EUR\nC2,Beta,FR,G,EUR\n")
    log = ImportLog.objects.create(organization=org, kind="customers", file_name="c.csv", stored_path=str(path))
    result = worker_app.send_task("imports.run", args=[log.pk])
    assert result.get(timeout=60) == ImportLog.Status.SUCCEEDED
    log.refresh_from_db()
    assert (log.status, log.created) == ("succeeded", 2)
    assert Customer.objects.for_organization(org).count() == 2
    # redelivery of the same message (acks_late) does not import twice
    assert worker_app.send_task("imports.run", args=[log.pk]).get(timeout=60) == ImportLog.Status.SUCCEEDED
    assert Customer.objects.for_organization(org).count() == 2
