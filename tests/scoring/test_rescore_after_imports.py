"""Loading a book must not grade it half-loaded: an import's re-score waits for the batch."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from credit_platform.imports.engine import import_file
from credit_platform.models import AuditEntry
from scoring import rescore
from scoring.models import CurrentScore, GradeChange
from tests.factories import CustomerFactory

INVOICES = ("number,customer_external_id,issue_date,due_date,amount,currency\n"
            "I-1,C1,2026-01-01,2026-01-31,1000.00,EUR\nI-2,C1,2026-02-01,2026-03-03,1000.00,EUR\n")
PAYMENTS = ("reference,customer_external_id,received_on,amount,currency,invoice_number\n"
            "P-1,C1,2026-01-25,1000.00,EUR,I-1\nP-2,C1,2026-02-25,1000.00,EUR,I-2\n")


def load(org, tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    log = import_file(organization=org, kind=kind, path=path)
    assert log.status == "succeeded", log.errors
    return log


def grades(customer):
    return list(GradeChange.objects.filter(customer=customer).order_by("pk").values_list("new_grade", flat=True))


@pytest.fixture
def clean_cache():
    cache.clear()
    yield
    for timer in rescore.pending_timers():
        timer.cancel()
    cache.clear()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invoices_then_payments_without_waiting_grade_the_half_loaded_book(org, tmp_path, settings, clean_cache):
    """The defect, kept as the contrast: re-scoring after each import grades the customer at its unpaid
    invoices first (two grade changes, the first a default grade)."""
    settings.SCORING_IMPORT_RESCORE_DELAY_SECONDS = 0
    customer = CustomerFactory(organization=org, external_id="C1")
    load(org, tmp_path, "invoices", INVOICES)
    load(org, tmp_path, "payments", PAYMENTS)
    assert len(grades(customer)) == 2 and grades(customer)[0] == 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_imports_in_a_row_are_graded_once_after_the_last(org, tmp_path, settings, clean_cache):
    settings.SCORING_IMPORT_RESCORE_DELAY_SECONDS = 3
    customer = CustomerFactory(organization=org, external_id="C1")
    load(org, tmp_path, "invoices", INVOICES)
    load(org, tmp_path, "payments", PAYMENTS)
    assert not CurrentScore.objects.filter(customer=customer).exists()  # nothing graded half-loaded
    [timer] = rescore.pending_timers()  # the first import's re-score gave way to the second's
    timer.join(timeout=60)
    assert not rescore.pending_timers()
    assert len(grades(customer)) == 1 and grades(customer)[0] < 10  # graded once, on the whole book
    entries = AuditEntry.objects.for_organization(org).filter(object_id=str(customer.pk),
                                                              action__startswith="score.grade")
    assert entries.count() == 1


@pytest.mark.django_db
def test_a_superseded_rescore_does_nothing_and_the_last_covers_the_batch(org, settings, clean_cache):
    """What a Celery worker runs (countdown tasks carry their sequence number)."""
    a = CustomerFactory(organization=org, external_id="A")
    b = CustomerFactory(organization=org, external_id="B")
    cache.set(rescore._seq_key(org.pk), 2)
    cache.set(rescore._ids_key(org.pk, 1), [a.pk])
    cache.set(rescore._ids_key(org.pk, 2), [b.pk])
    assert rescore.refresh_after_imports(org.pk, 1, [a.pk]) == 0
    assert not CurrentScore.objects.filter(organization=org).exists()
    assert rescore.refresh_after_imports(org.pk, 2, [b.pk]) == 2
    assert set(CurrentScore.objects.filter(organization=org).values_list("customer_id", flat=True)) == {a.pk, b.pk}
    # without a shared cache (a worker that cannot see the imports), each re-scores its own customers
    cache.clear()
    CurrentScore.objects.all().delete()
    assert rescore.refresh_after_imports(org.pk, 1, [a.pk]) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_import_command_in_embedded_mode_ends_up_rescored(org, tmp_path, settings, clean_cache):
    settings.SCORING_IMPORT_RESCORE_DELAY_SECONDS = 600
    customer = CustomerFactory(organization=org, external_id="C1")
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    call_command("import", "invoices", str(path), "--organization", org.slug, stdout=io.StringIO())
    assert not rescore.pending_timers()
    assert CurrentScore.objects.filter(customer=customer).exists()
