"""Scoring services: cold start, reasons that name the driver, grade changes in history and ledger,
idempotent runs, master scale, registry and promotion, monitoring alerts, event refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import time_machine
from django.conf import settings

from alerts.models import Alert
from credit_platform.audit import audit_verify
from credit_platform.models import AuditEntry
from customers.models import Customer
from scoring import monitoring, registry, services
from scoring.modeling import io as model_io
from scoring.modeling.trainer import train
from scoring.models import (
    CurrentScore,
    GradeChange,
    MonitoringReport,
    Score,
    ScorecardFactor,
    ScoringModel,
    ScoringRun,
    Trigger,
)
from scoring.selectors import customer_score_card, grade_distribution, render_reasons
from scoring.training import TrainingOutcome
from tests.factories import CustomerFactory, StatementFactory

from .book import AS_OF, D, invoice, make_book, pay, signal
from .synthetic import credit_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org, other_org):
    return make_book(org, other_org)


def current(customer):
    return CurrentScore.objects.get(customer=customer)


def codes(customer):
    return [r["code"] for r in current(customer).reasons]


def good_customer(org, external_id, **kw):
    """Pays on time, solid statements, good bureau score, long relationship, large."""
    c = CustomerFactory(organization=org, external_id=external_id, size="large", customer_since=D(2015, 1, 1),
                        credit_limit=Decimal("100000"), **kw)
    for k in range(6):
        inv = invoice(c, D(2025, 11, 1) + dt.timedelta(days=30 * k), D(2025, 12, 1) + dt.timedelta(days=30 * k),
                      "1000.00")
        pay(inv, inv.due_date - dt.timedelta(days=2))
    StatementFactory(customer=c, period_end=D(2025, 12, 31))
    signal(c, "bureau_score", D(2026, 4, 1), 85)
    return c


def test_cold_start_scores_everyone_with_the_expert_scorecard(org, book):
    n = services.score_customers(organization=org, as_of=AS_OF, trigger=Trigger.MANUAL)
    assert n == Customer.objects.for_organization(org).count() == 4
    champion = ScoringModel.objects.get(organization=org, status="champion")
    assert (champion.kind, champion.version) == ("expert", 1)
    b = current(book.b)  # no statements, no payments, no bureau score: still scored, flagged
    assert 0 < b.pd < 1 and 1 <= b.grade <= 10
    assert {"no_statement", "no_bureau", "no_payment_history"} <= set(b.flags)
    assert all(s.model_version == 1 and s.model_id == champion.pk for s in Score.objects.filter(organization=org))
    assert not Score.objects.filter(customer=book.other).exists()


def test_reasons_name_the_true_driver(org):
    late = good_customer(org, "LATE")
    for k in range(4):  # recently paying two months late
        inv = invoice(late, D(2026, 1, 1) + dt.timedelta(days=15 * k), D(2026, 1, 20) + dt.timedelta(days=15 * k),
                      "2000.00")
        pay(inv, inv.due_date + dt.timedelta(days=65))
    insolvent = good_customer(org, "INSOLVENT")
    signal(insolvent, "insolvency_filing", D(2026, 4, 20))
    weak = good_customer(org, "WEAK")
    StatementFactory(customer=weak, period_end=D(2024, 12, 31))
    weak.statements.filter(period_end=D(2025, 12, 31)).update(
        equity=Decimal("-100"), total_liabilities=Decimal("1100"), retained_earnings=Decimal("-300"),
        ebit=Decimal("-80"), net_income=Decimal("-110"), current_liabilities=Decimal("700"))
    fine = good_customer(org, "FINE")
    services.score_customers(organization=org, as_of=AS_OF)

    assert codes(late)[0] == "dbt_wavg_6m"
    assert codes(insolvent)[0] == "insolvency_filing" and current(insolvent).grade >= 9
    assert {"altman_z2", "equity_ratio", "interest_coverage", "current_ratio"} >= set(codes(weak)[:3])
    assert codes(fine) == [] or all(r["impact"] < 0.2 for r in current(fine).reasons)
    assert current(fine).grade < min(current(weak).grade, current(late).grade)
    texts = render_reasons(current(late).reasons)[0]
    assert texts["text_en"].startswith("Weighted by amount, pays ") and "days late" in texts["text_en"]
    assert texts["text_zh"].startswith("近6个月按金额加权平均逾期")
    assert 1 <= len(current(weak).reasons) <= 4


def test_a_customer_in_default_gets_the_default_grade(org):
    c = CustomerFactory(organization=org, status=Customer.Status.IN_DEFAULT)
    invoice(c, D(2025, 10, 1), D(2025, 11, 1), "500.00")  # 90 days past due on 2026-01-30
    services.score_customers(organization=org, as_of=AS_OF)
    s = current(c)
    assert (s.pd, s.grade) == (1.0, 10)
    assert s.reasons == [{"code": "in_default", "value": "2026-01-30", "impact": None}]
    # before its default date the same customer is scored by the model, not as defaulted
    services.score_customers(organization=org, as_of=D(2026, 1, 15), trigger=Trigger.BACKFILL)
    assert Score.objects.get(customer=c, as_of=D(2026, 1, 15)).pd < 1


def test_grade_changes_are_kept_and_audited_in_one_batch(org, book, monkeypatch):
    services.score_customers(organization=org, as_of=AS_OF)
    assert GradeChange.objects.filter(organization=org, old_grade__isnull=True).count() == 4
    first = AuditEntry.objects.filter(organization=org, action="score.grade_assigned").count()
    assert first == 4
    calls = []
    original = services.audit_append_many
    monkeypatch.setattr(services, "audit_append_many", lambda **kw: calls.append(kw) or original(**kw))

    # the same day again: nothing changes, nothing is recorded twice
    services.score_customers(organization=org, as_of=AS_OF)
    assert Score.objects.filter(organization=org).count() == 4
    assert GradeChange.objects.filter(organization=org).count() == 4
    assert calls[-1]["events"] == []

    # in September customer A has two invoices open for more than 100 days: its grade worsens, once,
    # in the history and in the ledger
    later = D(2026, 9, 15)
    before = current(book.a).grade
    services.score_customers(organization=org, as_of=later)
    after = current(book.a)
    assert after.grade > before and after.as_of == later
    change = GradeChange.objects.get(customer=book.a, as_of=later)
    assert (change.old_grade, change.new_grade) == (before, after.grade)
    entry = AuditEntry.objects.get(organization=org, action="score.grade_changed", object_id=str(book.a.pk))
    assert entry.before["grade"] == before and entry.after["grade"] == after.grade
    assert len(calls) == 2 and len(calls[-1]["events"]) == GradeChange.objects.filter(as_of=later).count()
    assert audit_verify(org)[1] is None
    # back-filling an older date adds history but leaves the current score alone
    services.score_customers(organization=org, as_of=D(2026, 3, 31), trigger=Trigger.BACKFILL)
    assert current(book.a).as_of == later
    assert Score.objects.filter(customer=book.a).count() == 3


def test_master_scale_is_configurable_per_organization(org, other_org, book, member):
    manager = member(org, "credit_manager")
    services.master_scale_update(organization=org, upper_bounds=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.9],
                                 actor=manager, reason="coarser scale")
    services.score_customers(organization=org, as_of=AS_OF)
    services.score_customers(organization=other_org, as_of=AS_OF)
    a = current(book.a)
    assert a.grade == int(np.searchsorted([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.9], a.pd, "right")) + 1
    assert AuditEntry.objects.filter(organization=org, action="scoring.master_scale_changed").count() == 1
    with pytest.raises(Exception, match="strictly increasing"):
        services.master_scale_update(organization=org, upper_bounds=[0.2, 0.1], actor=manager)
    dist = grade_distribution(org, AS_OF)
    assert dist["customers"] == 4 and sum(r["customers"] for r in dist["rows"]) == 4
    assert dist["rows"][0]["pd_upper"] == 0.01


def test_grade_distribution_as_of_a_past_date_counts_the_grades_of_then(org, other_org, book, member):
    """The overview as of a past date shows the grades customers had then, not today's."""
    then = D(2026, 3, 31)
    services.score_customers(organization=org, as_of=then)
    services.master_scale_update(organization=org, upper_bounds=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.9],
                                 actor=member(org, "credit_manager"), reason="coarser scale")
    services.score_customers(organization=org, as_of=AS_OF)
    grades_then = dict(Score.objects.filter(organization=org, as_of=then).values_list("customer_id", "grade"))
    grades_now = dict(CurrentScore.objects.filter(organization=org).values_list("customer_id", "grade"))
    assert grades_then != grades_now  # the scale moved the grades

    def by_grade(dist):
        return {r["grade"]: r["customers"] for r in dist["rows"] if r["customers"]}

    def counted(grades):
        out: dict[int, int] = {}
        for g in grades.values():
            out[g] = out.get(g, 0) + 1
        return out

    assert by_grade(grade_distribution(org, D(2026, 4, 15))) == counted(grades_then)
    assert grade_distribution(org, D(2026, 4, 15))["scored_on"] == then
    assert grade_distribution(org, D(2026, 3, 30))["customers"] == 0  # nobody was scored yet
    with time_machine.travel(dt.datetime.combine(AS_OF, dt.time(12), tzinfo=dt.UTC), tick=False):
        assert by_grade(grade_distribution(org, AS_OF)) == counted(grades_now)


def _outcome(tmp_path: Path) -> TrainingOutcome:
    frame = credit_frame(800, seed=3).drop(columns=["true_pd"]).rename(columns={"days_late": "dbt_avg_6m"})
    frame["default_12m"] = (frame.pop("defaulted") == "yes").astype(int)
    model = train(frame, "default_12m", 1, {"dbt_avg_6m": 1}, id_column="customer_id", gbm_grid=None)
    return TrainingOutcome(model=model, report={"out_of_time_by_snapshot": {}}, reference={},
                           window=(D(2024, 3, 31), D(2025, 3, 31)), features=model.features, seconds=1.0)


def test_registry_stores_hash_checked_files_and_promotion_is_audited(org, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.scoring_setup(organization=org)
    model = services.model_register(organization=org, outcome=_outcome(tmp_path))
    assert (model.version, model.status, model.kind) == (2, "candidate", "trained")
    path = Path(tmp_path) / model.file_path
    assert model_io.read_header(path)[0]["sha256"] == model.sha256 and model.file_bytes == path.stat().st_size
    assert registry.load_trained(model).features == model.features

    manager = member(org, "credit_manager")
    services.model_promote(model=model, actor=manager, reason="validated")
    assert ScoringModel.objects.get(organization=org, version=1).status == "retired"
    entry = AuditEntry.objects.get(organization=org, action="scoring.model_promoted", object_id=str(model.pk))
    assert (entry.actor_id, entry.after["champion"], entry.reason) == (manager.pk, 2, "validated")

    registry.clear_cache()
    data = path.read_bytes()
    path.write_bytes(data[:-10] + b"x" * 10)  # the file changed after registration
    with pytest.raises(model_io.ModelFileError, match="SHA-256"):
        registry.load_trained(model)


def test_expert_factor_edits_are_audited_and_published_as_a_new_champion_version(org, book, member):
    services.scoring_setup(organization=org)
    manager = member(org, "credit_manager")
    factor = ScorecardFactor.objects.get(organization=org, feature="bureau_score")
    factor.weight = Decimal("2")
    services.scorecard_factor_save(factor=factor, actor=manager, reason="bureau matters more")
    factor.bins = [[10, 5], [5, 0]]
    with pytest.raises(Exception, match="last band"):
        services.scorecard_factor_save(factor=factor, actor=manager)
    new = services.expert_scorecard_publish(organization=org, actor=manager, reason="weights reviewed")
    assert (new.version, new.status) == (2, "champion")
    assert next(f for f in new.config["factors"] if f["feature"] == "bureau_score")["weight"] == 2
    services.score_customers(organization=org, as_of=AS_OF)
    assert current(book.a).model_version == 2
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {"scoring.factor_changed", "scoring.model_registered", "scoring.model_promoted"} <= actions


def test_nightly_run_is_chunked_idempotent_and_monitored(org, other_org, book, settings,
                                                         django_capture_on_commit_callbacks):
    settings.SCORING_CHUNK_SIZE = 2
    settings.SCORING_NIGHTLY_HOUR = 0  # due at any hour, whatever time the test runs
    from scoring import tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.nightly() == 2  # both organizations, eagerly in-process (embedded mode)
    run = ScoringRun.objects.get(organization=org, trigger="nightly")
    assert (run.status, run.chunks_total, run.chunks_done, run.scored) == ("finished", 2, 2, 4)
    today = org.local_date()
    assert Score.objects.filter(organization=org, as_of=today).count() == 4
    report = MonitoringReport.objects.get(run=run)
    assert report.population == 4 and "pd" in report.psi
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.nightly() == 0  # the beat fires again the same night: nothing is due
        tasks.run_organization(org.pk)  # or a message is redelivered
    assert ScoringRun.objects.filter(organization=org, trigger="nightly").count() == 1
    assert Score.objects.filter(organization=org).count() == 4


def test_drift_above_the_threshold_raises_one_alert(org, settings, monkeypatch):
    monkeypatch.setattr(monitoring, "PSI_MIN_POPULATION", 5)
    for k in range(8):
        CustomerFactory(organization=org, external_id=f"N{k}")
    champion = services.scoring_setup(organization=org)
    edges = [0.001, 0.00217, 0.00473, 0.0103, 0.0224, 0.0487, 0.106, 0.230, 0.50]
    shares = [0.9] + [0.01] * 9 + [0.0]  # the reference had everyone in grade 1
    champion.reference = {"source": "test", "variables": {"pd": {"edges": edges, "shares": shares}}}
    champion.save()
    run = services.scoring_run_sync(organization=org, as_of=AS_OF)
    report = MonitoringReport.objects.get(run=run)
    assert report.psi["pd"] > 0.25 and report.alerts_raised == 1
    alert = Alert.objects.get(organization=org, kind="scoring.psi")
    assert alert.details["variable"] == "pd" and alert.severity == "high" and alert.status == "open"
    services.scoring_run_sync(organization=org, as_of=AS_OF + dt.timedelta(days=1))
    alert.refresh_from_db()
    assert Alert.objects.filter(organization=org).count() == 1 and alert.occurrences == 2


def test_new_payment_data_rescores_the_customer_after_commit(org, book, member, tmp_path,
                                                            django_capture_on_commit_callbacks):
    from credit_platform.imports.engine import import_file

    services.score_customers(organization=org, as_of=org.local_date())
    Score.objects.filter(customer=book.a).delete()
    CurrentScore.objects.filter(customer=book.a).delete()
    path = tmp_path / "pay.csv"
    path.write_text("reference,customer_external_id,received_on,amount,currency\nP-NEW,A,2026-04-29,10.00,EUR\n")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        log = import_file(organization=org, kind="payments", path=path)
    assert log.status == "succeeded" and len(callbacks) >= 1
    assert CurrentScore.objects.filter(customer=book.a).exists()
    assert not CurrentScore.objects.filter(customer=book.other).exists()
    # a dry run writes nothing, so it re-scores nothing
    Score.objects.filter(customer=book.a).delete()
    CurrentScore.objects.filter(customer=book.a).delete()
    with django_capture_on_commit_callbacks(execute=True):
        from credit_platform.imports.engine import import_file as again

        again(organization=org, kind="payments", path=path, dry_run=True)
    assert not CurrentScore.objects.filter(customer=book.a).exists()
    # a statement saved on its own (API, admin) re-scores its customer too
    with django_capture_on_commit_callbacks(execute=True):
        StatementFactory(customer=book.a, period_end=D(2023, 12, 31))
    assert CurrentScore.objects.filter(customer=book.a).exists()


def test_customer_score_card_for_the_page(org, book):
    services.score_customers(organization=org, as_of=D(2026, 3, 31), trigger=Trigger.BACKFILL)
    services.score_customers(organization=org, as_of=AS_OF)
    card = customer_score_card(org, book.a)
    assert card["current"]["as_of"] == AS_OF and len(card["history"]) == 2
    assert card["history"][0]["as_of"] < card["history"][1]["as_of"]
    assert card["sparkline"]["points"].count(",") == 2
    assert all(r["text_en"] and r["text_zh"] for r in card["current"]["reasons"])


def test_settings_schedule_the_nightly_run():
    entry = settings.CELERY_BEAT_SCHEDULE["scoring-nightly"]
    assert entry["task"] == "scoring.nightly"
    assert entry["schedule"] <= 15 * 60  # often enough to start every time zone's night on time


def test_nightly_run_is_due_at_each_organizations_local_hour(org, other_org, settings):
    """The night of a local date is due from 01:00 local until it has a run: 01:00 in Shanghai is
    17:00 UTC the day before, in London (winter) 01:00 UTC. A started night is not due again."""
    settings.SCORING_NIGHTLY_HOUR = 1
    org.time_zone, other_org.time_zone = "Asia/Shanghai", "Europe/London"
    org.save(update_fields=["time_zone"])
    other_org.save(update_fields=["time_zone"])
    utc = dt.UTC

    def due(day: int, hour: int, minute: int = 0) -> list[int]:
        return services.due_nightly_organizations(dt.datetime(2026, 1, day, hour, minute, tzinfo=utc))

    assert due(14, 0, 30) == [org.pk]  # 08:30 on the 14th in Shanghai, 00:30 in London
    services.scoring_run_start(organization=org, as_of=dt.date(2026, 1, 14), enqueue=False)
    assert due(14, 0, 59) == []
    assert due(14, 1, 0) == [other_org.pk]
    assert due(14, 16, 59) == [other_org.pk]  # 00:59 on the 15th in Shanghai: not yet
    assert due(14, 17, 0) == [org.pk, other_org.pk]
    org.is_active = False
    org.save(update_fields=["is_active"])
    assert due(14, 17, 0) == [other_org.pk]
    settings.SCORING_NIGHTLY_HOUR = 24
    with pytest.raises(ValueError, match="SCORING_NIGHTLY_HOUR"):
        due(14, 17, 0)
