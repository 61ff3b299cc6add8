"""The nightly re-score through a real Celery worker on Redis (the production path): the beat task fans
out one run per organization, each run one task per chunk of customers, and the last chunk starts the
monitoring. Checks one score per customer and date, also when the night is triggered twice."""

from __future__ import annotations

import time

import pytest
from celery.signals import task_received

import limits.tasks  # noqa: F401 - the step after scoring in the same canvas
import scoring.tasks  # noqa: F401 - registers the shared tasks on every app
from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from customers.models import Customer
from scoring.models import MonitoringReport, Score, ScoringRun
from tests.conftest import SUITE_TODAY
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_for(condition, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the nightly run")


@pytest.fixture
def received():
    """Names of the tasks the worker took from the broker (not run eagerly in-process)."""
    names: list[str] = []

    def on_received(sender=None, request=None, **kwargs):
        names.append(request.name)

    task_received.connect(on_received, weak=False)
    yield names
    task_received.disconnect(on_received)


def test_nightly_rescore_on_a_real_worker(worker_app, received, settings):
    settings.SCORING_CHUNK_SIZE = 25  # 60 + 30 customers -> 3 + 2 chunk tasks through Redis
    settings.SCORING_NIGHTLY_HOUR = 0  # both organizations' nights are due whatever the time of the test
    first = OrganizationFactory(name="Night A", slug="night-a")
    second = OrganizationFactory(name="Night B", slug="night-b", time_zone="Asia/Shanghai")
    today = SUITE_TODAY
    load_portfolio(first, generate(DemoConfig(customers=60, invoices=3000, seed=5, as_of=today)))
    load_portfolio(second, generate(DemoConfig(customers=30, invoices=1500, seed=6, as_of=today, prefix="B-")))

    assert worker_app.send_task("scoring.nightly").get(timeout=60) >= 2

    def finished() -> bool:
        runs = ScoringRun.objects.filter(organization__in=[first, second], trigger="nightly")
        return runs.count() == 2 and not runs.exclude(status="finished").exists() and \
            MonitoringReport.objects.filter(run__in=runs).count() == 2

    wait_for(finished)
    for org, n, chunks in ((first, 60, 3), (second, 30, 2)):
        day = org.local_date()
        run = ScoringRun.objects.get(organization=org, trigger="nightly")
        assert (run.as_of, run.chunks_total, run.chunks_done, run.scored) == (day, chunks, chunks, n)
        scores = Score.objects.filter(organization=org, as_of=day)
        assert scores.count() == scores.values("customer").distinct().count() == n
        assert Customer.objects.for_organization(org).count() == n
    # the next step of the canvas: limits after grades (recommended limits for every customer)
    from limits.models import RecommendedLimit

    wait_for(lambda: RecommendedLimit.objects.filter(organization__in=[first, second]).count() == 90)
    assert sorted(set(received)) == ["alerts.sweep", "limits.after_scoring", "scoring.monitor_run",
                                     "scoring.nightly", "scoring.run_organization", "scoring.score_chunk"]
    assert received.count("scoring.score_chunk") == 5 and received.count("scoring.monitor_run") == 2
    assert received.count("limits.after_scoring") == 2 and received.count("alerts.sweep") == 2

    # the beat firing again the same night (or a redelivered message) creates nothing twice
    worker_app.send_task("scoring.nightly").get(timeout=60)
    time.sleep(2)
    wait_for(finished)
    assert ScoringRun.objects.filter(organization__in=[first, second], trigger="nightly").count() == 2
    assert Score.objects.filter(organization__in=[first, second]).count() == 90
