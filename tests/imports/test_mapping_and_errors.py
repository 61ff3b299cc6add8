"""Column mappings, per-file formats, grouped errors and historical loads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from credit_platform.imports.engine import import_file, importers, loading_organizations
from credit_platform.imports.mapping import guess_encoding, guess_format, preview, suggest
from credit_platform.imports.models import HistoricalLoad
from credit_platform.imports.services import historical_load_start, mapping_for, mapping_save
from credit_platform.imports.spec import FileFormat
from credit_platform.models import AuditEntry, ImportLog
from credit_platform.roles import Role
from customers.models import Customer
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.models import Invoice
from receivables.tasks import due_organizations
from scoring.models import Score
from scoring.services import due_nightly_organizations
from tests.conftest import SUITE_NOW, SUITE_TODAY

from .export_data import MAPPING_COLUMNS, MAPPING_FORMAT, make_export, to_csv_text

pytestmark = pytest.mark.django_db


def _write(tmp_path, text: str, name: str = "export.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_preview_guesses_formats_and_suggests_fields_then_offers_the_saved_mapping(tmp_path, org):
    path = _write(tmp_path, to_csv_text(make_export(customers=5, invoices=40)))
    seen = preview(path, "export.csv")
    assert seen.encoding == "utf-8" and seen.rows == 40
    assert seen.file_format.date_format == "%d/%m/%Y"
    assert seen.headers[:4] == ["customer_id", "customer_name", "country_code", "invoice_id"]
    assert len(seen.samples["invoice_date"]) == 5
    cls = importers()["invoice_export"]
    first = suggest(seen.headers, cls)
    assert first["customer_id"] == "customer_external_id" and first["invoice_date"] == "issue_date"
    assert first["settled_date"] == "settled_on" and first["region"] == ""
    # a saved mapping wins over the guesses, and is what the next file is offered
    mapping_save(organization=org, kind="invoice_export", columns={**MAPPING_COLUMNS, "Sales Rep": "customer_name",
                                                                   "customer_name": ""},
                 defaults={"sector": "G"}, file_format=MAPPING_FORMAT)
    saved = mapping_for(org, "invoice_export")
    offered = suggest(seen.headers, cls, saved.options())
    assert offered["sales_rep"] == "customer_name" and offered["customer_name"] == ""
    assert saved.defaults == {"sector": "G"}
    assert AuditEntry.objects.for_organization(org).filter(action="import_mapping.saved").count() == 1


def test_guesses_of_numbers_and_encodings(tmp_path):
    frame = pd.DataFrame({"a": ["1.234,56", "12,50"], "b": ["31.12.2025", "01.02.2026"], "_row": [2, 3]})
    assert guess_format(frame) == FileFormat("%d.%m.%Y", ",", ".")
    frame = pd.DataFrame({"a": ["1,234.56", "7.00"], "b": ["12/31/2025", "01/02/2026"], "_row": [2, 3]})
    assert guess_format(frame) == FileFormat("%m/%d/%Y", ".", ",")
    assert guess_encoding(_write(tmp_path, "客户,金额\n上海,1\n", "gb.csv", "gb18030")) == "gb18030"


def test_customer_file_with_european_formats_and_alpha3_countries(tmp_path, org):
    text = ("Kundennummer;Name;Land;Branche;Währung;Seit\n"
            "K1;Alpha GmbH;DEU;C;EUR;31.01.2020\nK2;Beta SA;France;G;EUR;15.06.2019\nK3;Gamma;156;C;CNY;01.02.2021\n")
    path = _write(tmp_path, text, "kunden.csv")
    options = {"columns": {"kundennummer": "external_id", "name": "legal_name", "land": "country",
                           "branche": "sector", "w_hrung": "currency", "seit": "customer_since"},
               "format": {"date_format": "%d.%m.%Y", "decimal": ",", "thousands": "."}}
    log = import_file(organization=org, kind="customers", path=path, options=options)
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    got = dict(Customer.objects.for_organization(org).values_list("external_id", "country_id"))
    assert got == {"K1": "DE", "K2": "FR", "K3": "CN"}
    assert Customer.objects.get(organization=org, external_id="K1").customer_since == dt.date(2020, 1, 31)


def test_errors_are_grouped_by_column_and_reason_so_one_bad_column_hides_nothing(tmp_path, org):
    export = make_export(customers=10, invoices=1500)
    text = to_csv_text(export)
    frame = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    frame["Invoice Date"] = frame["Invoice Date"].str.replace("/", "-")  # every row: not dd/mm/yyyy
    frame.loc[[3, 7, 11], "Invoice Amount"] = "12,34,5"
    frame.loc[20, "Country Code"] = "999"
    path = _write(tmp_path, frame.to_csv(index=False))
    log = import_file(organization=org, kind="invoice_export", path=path,
                      options={"columns": MAPPING_COLUMNS, "format": MAPPING_FORMAT})
    assert log.status == ImportLog.Status.REJECTED
    groups = {(g["column"], g["count"]): g for g in log.detail.error_groups}
    assert ("issue_date", 1500) in groups and groups[("issue_date", 1500)]["rows"] == [2, 3, 4, 5, 6]
    assert groups[("issue_date", 1500)]["reason"] == "is not a date (dd/mm/yyyy)"
    assert groups[("amount", 3)]["rows"] == [5, 9, 13]
    assert groups[("country", 1)]["example"] == "999"
    assert log.error_count == 1504
    # the kept errors include every column's, not only the first 1,000 of the date column
    assert {e["column"] for e in log.errors} == {"issue_date", "amount", "country"}
    assert not Invoice.objects.for_organization(org).exists() and not Customer.objects.exists()


def test_mapping_errors_are_located_and_reject_the_file(tmp_path, org):
    path = _write(tmp_path, "a,b\n1,2\n")
    log = import_file(organization=org, kind="invoices", path=path,
                      options={"columns": {"a": "number", "b": "number"}, "defaults": {"nope": "1"}})
    reasons = {(e["column"], e["reason"].split(",")[0]) for e in log.errors}
    assert ("b", "is mapped to 'number'") in {(c, r.split(" which")[0]) for c, r in reasons}
    assert any(e["column"] == "issue_date" and "neither mapped" in e["reason"] for e in log.errors)
    assert any(e["column"] == "nope" for e in log.errors)
    assert log.status == ImportLog.Status.REJECTED


def test_dry_run_reports_created_updated_unchanged_per_kind_and_writes_nothing(tmp_path, org):
    path = _write(tmp_path, to_csv_text(make_export(customers=4, invoices=30)))
    options = {"columns": MAPPING_COLUMNS, "format": MAPPING_FORMAT}
    log = import_file(organization=org, kind="invoice_export", path=path, options=options, dry_run=True)
    assert log.status == ImportLog.Status.SUCCEEDED and "Dry run" in log.message
    kinds = {b["kind"]: b["created"] for b in log.detail.breakdown}
    assert kinds["customers"] == 4 and kinds["invoices"] == 30
    assert not Customer.objects.exists()
    import_file(organization=org, kind="invoice_export", path=path, options=options)
    again = import_file(organization=org, kind="invoice_export", path=path, options=options, dry_run=True)
    assert {b["kind"]: b["unchanged"] for b in again.detail.breakdown}["invoices"] == 30
    assert again.created == 0


def test_historical_load_defers_rescores_dunning_and_nightly_until_completed(
        tmp_path, org, django_capture_on_commit_callbacks):
    dunning_policy_ensure_default(org)
    path = _write(tmp_path, to_csv_text(make_export(customers=6, invoices=80)))
    options = {"columns": MAPPING_COLUMNS, "format": MAPPING_FORMAT, "historical": True}
    with django_capture_on_commit_callbacks(execute=True):
        log = import_file(organization=org, kind="invoice_export", path=path, options=options)
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    assert "Historical load" in log.message
    assert not Score.objects.for_organization(org).exists()  # nothing graded from a half-loaded book
    assert loading_organizations() == {org.pk}
    late = SUITE_NOW.replace(hour=20)  # 21:00 in Berlin: the night run and the dunning run are due
    assert org.pk not in due_nightly_organizations(late)
    assert org.pk not in [pk for pk, _d, _s in due_organizations(late)]

    past = dt.date(2026, 6, 30)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("historical_load", "complete", "--organization", org.slug, "--rescore-as-of", past.isoformat())
    assert HistoricalLoad.objects.get(organization=org).status == HistoricalLoad.Status.COMPLETED
    assert loading_organizations() == set()
    days = set(Score.objects.for_organization(org).values_list("as_of", flat=True))
    assert days == {past, SUITE_TODAY}
    assert Score.objects.for_organization(org).filter(as_of=SUITE_TODAY).count() == 6
    assert org.pk in due_nightly_organizations(late)
    assert org.pk in [pk for pk, _d, _s in due_organizations(late)]
    with pytest.raises(CommandError, match="No historical load"):
        call_command("historical_load", "complete", "--organization", org.slug)


def test_a_historical_load_can_be_started_by_command_and_is_in_the_ledger(org):
    call_command("historical_load", "start", "--organization", org.slug)
    assert historical_load_start(organization=org).status == HistoricalLoad.Status.OPEN  # the same one
    assert HistoricalLoad.objects.count() == 1
    assert AuditEntry.objects.for_organization(org).filter(action="historical_load.started").count() == 1


def test_a_new_customer_needs_a_country_from_a_column_or_a_default(tmp_path, org):
    text = "cust,inv,date,amount\nN1,I-1,2026-01-05,100.00\nN1,I-2,2026-01-06,50.00\n"
    path = _write(tmp_path, text)
    columns = {"cust": "customer_external_id", "inv": "invoice_number", "date": "issue_date", "amount": "amount"}
    log = import_file(organization=org, kind="invoice_export", path=path, options={"columns": columns})
    assert log.status == ImportLog.Status.REJECTED
    assert {(e["row"], e["column"]) for e in log.errors} == {(2, "country"), (3, "country")}
    log = import_file(organization=org, kind="invoice_export", path=path,
                      options={"columns": columns, "defaults": {"country": "Germany"}})
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    customer = Customer.objects.get(organization=org, external_id="N1")
    assert (customer.country_id, customer.sector_id, customer.currency) == ("DE", "UNK", "EUR")
    assert AuditEntry.objects.for_organization(org).filter(action="customer.to_complete").count() == 1


def test_a_part_payment_and_a_given_reference_settle_their_own_invoice(tmp_path, org):
    text = ("cust,country,inv,date,due,amount,settled,paid,ref,disputed\n"
            "P1,DE,I-1,05/01/2026,04/02/2026,100.00,10/02/2026,40.00,BANK-77,no\n"
            "P1,DE,I-2,06/01/2026,05/02/2026,50.00,,,,yes\n")
    columns = {"cust": "customer_external_id", "country": "country", "inv": "invoice_number", "date": "issue_date",
               "due": "due_date", "amount": "amount", "settled": "settled_on", "paid": "paid_amount",
               "ref": "payment_reference", "disputed": "disputed"}
    log = import_file(organization=org, kind="invoice_export", path=_write(tmp_path, text),
                      options={"columns": columns, "format": MAPPING_FORMAT})
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    invoices = {i.number: i for i in Invoice.objects.for_organization(org).with_balances(None)}
    assert invoices["I-1"].open_amount == 60 and invoices["I-2"].open_amount == 50
    from receivables.models import Dispute, Payment

    assert Payment.objects.get(organization=org).reference == "BANK-77"
    dispute = Dispute.objects.get(organization=org)
    assert (dispute.invoice.number, dispute.status) == ("I-2", "open")


def test_the_historical_load_is_completed_from_the_page(client, org, member, django_capture_on_commit_callbacks):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    historical_load_start(organization=org)
    page = client.get("/imports/new/").content.decode()
    assert "Complete the load and re-score" in page
    bad = client.post("/onboarding/historical-load/complete/", {"rescore_dates": "2026-02-30"})
    assert bad.status_code == 302 and loading_organizations() == {org.pk}
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/onboarding/historical-load/complete/", {"rescore_dates": "2026-06-30"})
    load = HistoricalLoad.objects.get()
    assert load.status == HistoricalLoad.Status.COMPLETED and load.rescore_dates == ["2026-06-30"]
