"""Bounds at the import entry: rows, unpacked workbook size, file type, magnitudes; the upload page
writes through its service and never holds a request on a big file."""

import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from credit_platform.imports import services as import_services
from credit_platform.imports.engine import import_file
from credit_platform.models import AuditEntry, ImportLog
from credit_platform.roles import Role
from customers.models import Customer
from receivables.models import Invoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,legal_name,country,sector,currency"


def csv_file(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_file_over_the_row_cap_is_refused_before_it_is_read_whole(org, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    path = csv_file(tmp_path, "c.csv", [f"C{i},Name {i},DE,C,EUR" for i in range(5)])
    log = import_file(organization=org, kind="customers", path=path)
    assert log.status == ImportLog.Status.REJECTED
    assert log.errors[0]["row"] == 1 and "more than 3 data rows (IMPORT_MAX_ROWS)" in log.errors[0]["reason"]
    assert not Customer.objects.exists()
    log = import_file(organization=org, kind="customers", path=csv_file(tmp_path, "ok.csv", ["C1,A,DE,C,EUR"] * 1))
    assert log.status == ImportLog.Status.SUCCEEDED


def test_a_workbook_that_unpacks_beyond_the_cap_is_refused_without_parsing_it(org, tmp_path, settings):
    """A 0.9 MB workbook that unpacked to 228 MB and 1M rows ran 88 s: the ZIP directory says how big it
    is before a single cell is read."""
    path = tmp_path / "bomb.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for i in range(20_000):
        sheet.append([f"C{i}", "Same name", "DE", "C", "EUR"])
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = unpacked // 2
    started = time.perf_counter()
    log = import_file(organization=org, kind="customers", path=path)
    assert time.perf_counter() - started < 2  # reading 20,000 rows would take several seconds
    assert log.status == ImportLog.Status.REJECTED
    assert "IMPORT_XLSX_MAX_UNPACKED_BYTES" in log.errors[0]["reason"] and "save it as .csv" in log.errors[0]["reason"]


def test_a_text_file_named_xlsx_is_a_clear_error_not_a_failure(client, org, member, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = csv_file(tmp_path, "customers.xlsx", ["C1,Alpha,DE,C,EUR"])
    # through the engine (command, API): a located error, the log "rejected", never "failed"
    log = import_file(organization=org, kind="customers", path=path)
    assert log.status == ImportLog.Status.REJECTED
    assert "is not an Excel workbook" in log.errors[0]["reason"] and log.errors[0]["row"] == 1
    # through the page: 400 with the form's error, nothing stored or logged
    client.force_login(member(org, Role.CREDIT_OFFICER))
    before = ImportLog.objects.count()
    with open(path, "rb") as fh:
        response = client.post(reverse("import-list"), {"kind": "customers", "file": fh, "encoding": "utf-8"})
    assert response.status_code == 400
    assert "is not an Excel workbook" in response.content.decode()
    assert ImportLog.objects.count() == before and not Customer.objects.exists()


@pytest.mark.parametrize("value,accepted", [
    ("999999999999999.99", True), ("9999999999999999.99", False), ("12345678901234567890", False), ("-0.01", False),
])
def test_amounts_must_fit_what_every_database_reads_back(org, tmp_path, value, accepted):
    """A limit of 9,999,999,999,999,999.99 made the customer unreadable on SQLite."""
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER},credit_limit\nC1,Alpha,DE,C,EUR,{value}\n", encoding="utf-8")
    log = import_file(organization=org, kind="customers", path=path)
    assert (log.status == ImportLog.Status.SUCCEEDED) is accepted, log.errors
    if accepted:  # and readable again (SQLite rounds a 17-digit value through a double, to the unit)
        from limits.models import LimitRequest  # the file's limit is a request for the approvers

        assert abs(LimitRequest.objects.get(customer__external_id="C1").requested_limit - Decimal(value)) < 1
    else:
        [error] = log.errors
        assert (error["row"], error["column"], error["value"]) == (2, "credit_limit", value)
        if value.startswith("9"):
            assert "too large: at most 15 digits before the decimal point (999,999,999,999,999.99)" in error["reason"]


def test_an_over_long_email_is_a_row_error(org, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER},email\nC1,Alpha,DE,C,EUR,{'a' * 250}@example.com\n", encoding="utf-8")
    log = import_file(organization=org, kind="customers", path=path)
    assert [(e["column"], e["reason"]) for e in log.errors] == [("email", "is longer than 254 characters")]


def test_the_upload_page_goes_through_the_service_and_the_ledger(client, org, member, tmp_path, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    CustomerFactory(organization=org, external_id="C1")
    client.force_login(member(org, Role.CREDIT_OFFICER))
    path = tmp_path / "inv.csv"
    path.write_text("number,customer_external_id,issue_date,amount,currency\nI-1,C1,2026-01-05,10,EUR\n")
    with open(path, "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-list"), {"kind": "invoices", "file": fh, "encoding": "utf-8"})
    assert response.status_code == 302
    log = ImportLog.objects.get()
    assert (log.status, log.created) == (ImportLog.Status.SUCCEEDED, 1)
    actions = list(AuditEntry.objects.for_organization(org)
                   .filter(object_type="credit_platform.importlog", object_id=str(log.pk))
                   .values_list("action", flat=True))
    assert actions == ["import.queued", "import.completed"]
    assert Invoice.objects.for_organization(org).filter(number="I-1").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_big_upload_in_embedded_mode_runs_off_the_request_thread(client, org, member, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_INLINE_MAX_BYTES = 10  # every file counts as big here
    client.force_login(member(org, Role.CREDIT_OFFICER))
    path = csv_file(tmp_path, "c.csv", ["C1,Alpha,DE,C,EUR", "C2,Beta,FR,G,EUR"])
    import_services.BACKGROUND.clear()
    with open(path, "rb") as fh:
        response = client.post(reverse("import-list"), {"kind": "customers", "file": fh, "encoding": "utf-8"})
    assert response.status_code == 302
    [thread] = import_services.BACKGROUND
    assert thread.name.startswith("import-")
    thread.join(timeout=60)
    log = ImportLog.objects.get()
    assert (log.status, log.created) == (ImportLog.Status.SUCCEEDED, 2)
    assert Customer.objects.filter(organization=org).count() == 2
