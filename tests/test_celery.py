"""Tasks through a real Celery worker on Redis (the production path), not eagerly in-process."""

import pytest

import credit_platform.imports.tasks  # noqa: F401 - registers the shared task on every app
from credit_platform.models import ImportLog
from customers.models import Customer

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


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
