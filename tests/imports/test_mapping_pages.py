"""The mapping pages: upload, see columns with samples and guesses, dry-run, import, the error file."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credit_platform.imports.models import ColumnMapping, StagedFile
from credit_platform.models import ImportLog
from credit_platform.roles import Role
from customers.models import Customer
from receivables.models import Invoice

from .export_data import make_export, to_csv_text

pytestmark = pytest.mark.django_db


def _upload(client, text: str, kind: str = "invoice_export"):
    return client.post("/imports/new/", {"kind": kind, "file": SimpleUploadedFile("ar.csv", text.encode())})


def _form(page: str) -> dict[str, str]:
    """The mapping form as the page offers it (selected options and filled inputs)."""
    import re

    data = {}
    for name, body in re.findall(r'<select name="(col_\d+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data.update(re.findall(r'<input id="default_\w+" name="(default_\w+)" value="([^"]*)"', page))
    for name in ("encoding", "date_format", "decimal", "thousands"):
        match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
        chosen = re.search(r'<option value="([^"]*)" selected', match.group(1)) if match else None
        data[name] = chosen.group(1) if chosen else ""
    return data


def test_upload_map_dry_run_then_import_and_the_mapping_is_offered_next_time(
        client, org, member, django_capture_on_commit_callbacks):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    export = make_export(customers=5, invoices=40)
    response = _upload(client, to_csv_text(export))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Invoice Date".lower().replace(" ", "_") in page and "dd/mm/yyyy" in page
    data = _form(page)
    assert data["date_format"] == "%d/%m/%Y"
    assert data["col_0"] == "customer_external_id" and data["col_9"] == ""  # Region: ignored
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(response["Location"], {**data, "action": "dry_run"})
    log = ImportLog.objects.get()
    assert dry["Location"].endswith(f"/imports/{log.pk}/") and log.dry_run and log.status == "succeeded"
    detail = client.get(dry["Location"]).content.decode()
    assert 'id="breakdown"' in detail and 'data-kind="customers"' in detail
    assert not Customer.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        real = client.post(f"/imports/{log.pk}/import/")
    assert real.status_code == 302
    assert Invoice.objects.for_organization(org).count() == 40 and Customer.objects.for_organization(org).count() == 5
    assert ColumnMapping.objects.get(organization=org, kind="invoice_export").columns["invoice_id"] == "invoice_number"

    # the next file: the saved mapping is filled in, even for a column the guesses would not map
    mapping = ColumnMapping.objects.get()
    mapping.columns["sales_rep"] = "payment_reference"
    mapping.save()
    second = _upload(client, to_csv_text(make_export(customers=5, invoices=10, seed=9)))
    page = client.get(second["Location"]).content.decode()
    assert "saved mapping" in page and _form(page)["col_10"] == "payment_reference"


def test_a_rejected_file_shows_grouped_errors_and_gives_an_error_file(
        client, org, member, django_capture_on_commit_callbacks):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    rows = list(csv.reader(io.StringIO(to_csv_text(make_export(customers=3, invoices=12)))))
    rows[3][6] = rows[3][6].replace(".", ",")  # file row 4: an amount with a decimal comma
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    response = _upload(client, out.getvalue())
    data = _form(client.get(response["Location"]).content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {**data, "action": "import"})
    log = ImportLog.objects.get()
    assert log.status == ImportLog.Status.REJECTED
    page = client.get(f"/imports/{log.pk}/").content.decode()
    assert 'id="error-groups"' in page and "amount" in page
    errors = client.get(f"/imports/{log.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert rows[0][0] == "row" and rows[0][-1] == "errors"
    assert [r[0] for r in rows[1:]] == ["4"] and "amount" in rows[1][-1]


def test_mapping_pages_are_scoped_and_need_the_import_capability(client, org, other_org, member):
    client.force_login(member(other_org, Role.CREDIT_OFFICER))
    _upload(client, "a,b\n1,2\n")
    staged = StagedFile.objects.get()
    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.get(f"/imports/staged/{staged.pk}/map/").status_code == 404
    client.force_login(member(org, Role.AUDITOR))
    assert client.get("/imports/new/").status_code == 403
